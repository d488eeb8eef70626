"""Zotero's item types, fields and creator roles -> CSL, as ../shared/conformance/README.md lists them.

One table for every conformance scorer that compares bibsmith's records with Zotero's expected items.
"""

# Zotero item type -> CSL type (README "How a harness uses them"). CSL 1.0.2 has no "letter" or
# "email" type; both are personal_communication there.
TYPES = {
    "journalArticle": "article-journal", "book": "book", "bookSection": "chapter",
    "conferencePaper": "paper-conference", "thesis": "thesis", "report": "report", "webpage": "webpage",
    "magazineArticle": "article-magazine", "newspaperArticle": "article-newspaper", "patent": "patent",
    "film": "motion_picture", "videoRecording": "motion_picture", "artwork": "graphic", "dataset": "dataset",
    "manuscript": "manuscript", "case": "legal_case", "bill": "bill", "statute": "legislation",
    "hearing": "hearing", "map": "map", "letter": "personal_communication", "audioRecording": "song",
    "computerProgram": "software", "blogPost": "post-weblog", "email": "personal_communication",
    "dictionaryEntry": "entry-dictionary", "encyclopediaArticle": "entry-encyclopedia", "document": "document",
}

# Zotero field -> CSL variable (README list). Date fields are compared as YYYY[-MM[-DD]].
FIELDS = {
    "title": "title", "publicationTitle": "container-title", "bookTitle": "container-title",
    "proceedingsTitle": "container-title", "journalAbbreviation": "container-title-short", "pages": "page",
    "volume": "volume", "issue": "issue", "edition": "edition", "DOI": "DOI", "ISBN": "ISBN", "ISSN": "ISSN",
    "url": "URL", "place": "publisher-place", "publisher": "publisher", "abstractNote": "abstract",
    "language": "language", "shortTitle": "title-short", "series": "collection-title",
    "seriesNumber": "collection-number", "numberOfVolumes": "number-of-volumes", "numPages": "number-of-pages",
    "callNumber": "call-number", "archive": "archive", "archiveLocation": "archive_location",
    "libraryCatalog": "source", "university": "publisher", "institution": "publisher", "reportNumber": "number",
    "billNumber": "number", "thesisType": "genre", "reportType": "genre",
    "date": "issued", "accessDate": "accessed",
}
DATE_FIELDS = {"date", "accessDate"}
# Zotero creator type -> CSL name variable. Each item type's primary creator is CSL `author`.
ROLES = {
    "author": "author", "editor": "editor", "translator": "translator", "seriesEditor": "collection-editor",
    "inventor": "author", "artist": "author", "programmer": "author", "cartographer": "author",
    "sponsor": "author", "director": "author", "composer": "composer", "recipient": "recipient",
    "contributor": "contributor", "performer": "performer", "producer": "producer",
    "bookAuthor": "container-author",
}
