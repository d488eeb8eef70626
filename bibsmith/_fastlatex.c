/* bibsmith._fastlatex: `to_unicode` of bibsmith/text/latex.py for the LaTeX that .bib files mostly hold.

Why by hand in C: reading the 10k benchmark corpus calls to_unicode 64,000 times (titles, journals,
abstracts, name parts; 20,000 cache misses), and each miss ran _split_raw_math, the _SPECIAL search,
the TOKEN loop of _fast_decode, NFC and the space regex in Python: 160 ms of CPU, about a quarter of
reading. This module does the same in one or two passes over the characters: those 64,000 calls take
25 ms (best of 5, empty cache), most of it the lru_cache and the Python call around the C. Over all
79,000 field values of the corpus, the 99% that this module takes go from 300 ms to 41 ms; the other
765 values (whole author lists with a stacked accent, Nguy{\~{\^e}}n, which the reader only decodes
name part by name part) need pylatexenc and take 480 ms either way.

What it computes is exactly what latex.to_unicode computes with the C module switched off (the
regular expressions there are the specification; tests/test_fastlatex.py holds both to the same
output): `\$` hidden from the math pattern, `$...$` and `\(...\)` kept as written, every other piece
as is when _SPECIAL finds nothing in it, else decoded as _fast_decode decodes it, then NFC, U+00A0 as
a space, runs of whitespace (str.isspace) as one space, stripped. Whatever would reach pylatexenc
(_slow_decode) returns None, and the Python code runs as before. A value holding U+0000 returns None
too: _split_raw_math uses that character to hide `\$`.

NFC: an accent on an ASCII letter is written precomposed when unicodedata composes the pair into one
character below U+0300 (the table is built from unicodedata at import). A text whose characters all
lie below U+0300, in U+2010..U+2027 (dashes, quotes) or in U+4E00..U+9FFF (CJK) is already NFC: every
such character is a starter that is NFC_Quick_Check=Yes (the tests check this against unicodedata),
and a precomposed character is canonically equivalent to letter + mark. Any other text goes through
unicodedata.normalize, as in Python.
*/

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

#define NONE ((Py_UCS4)0xFFFFFFFFu) /* "no character": past the end of the piece */

static PyObject *normalize_fn; /* unicodedata.normalize */
static PyObject *nfc_name;     /* "NFC" */

/* ACCENTS of latex.py: the accent command -> the combining mark. */
#define N_ACCENTS 15
static const char accent_keys[N_ACCENTS + 1] = "'`^\"~=.cvuHkrdb";
static const Py_UCS4 accent_marks[N_ACCENTS] = {
    0x0301, 0x0300, 0x0302, 0x0308, 0x0303, 0x0304, 0x0307,
    0x0327, 0x030C, 0x0306, 0x030B, 0x0328, 0x030A, 0x0323, 0x0331,
};
/* NFC of ASCII letter + mark when it is one character below U+0300; 0 otherwise. */
static Py_UCS4 composed[128][N_ACCENTS];
static signed char accent_of[128]; /* accent command character -> index, or -1 */

/* ASCII character classes. */
enum {
    STOP = 1,    /* ends a text run of TOKEN: \ { } ~ % # ^ _ $ ` ' ! ? -  */
    SPECIAL = 2, /* a character _SPECIAL finds on its own: \ { } ~ % & # ^ _ $ */
    SYM = 4,     /* TOKEN's sym accents: ' ` ^ " ~ = . */
    LET = 8,     /* TOKEN's let accents, which take {letter}: c v u H k r d b */
    ESC = 16,    /* TOKEN's esc: & % $ # _ { } */
    ALPHA = 32,  /* [A-Za-z] */
};
static unsigned char ascii_class[128];

static ALWAYS_INLINE int
is(Py_UCS4 c, int cls)
{
    return c < 128 && (ascii_class[c] & cls);
}

/* The characters for which a text made of them only is already NFC (see the top of the file). */
static ALWAYS_INLINE int
nfc_safe(Py_UCS4 c)
{
    return c < 0x0300 || (c >= 0x2010 && c <= 0x2027) || (c >= 0x4E00 && c <= 0x9FFF);
}

#define READ(i) PyUnicode_READ(kind, data, (i))

/* _SPECIAL.search(text[a:b]) is not None: [\\{}~%&#^_$]|--|''|``|[!?]` */
static ALWAYS_INLINE int
has_special(int kind, const void *data, Py_ssize_t a, Py_ssize_t b)
{
    for (Py_ssize_t i = a; i < b; i++) {
        Py_UCS4 c = READ(i);
        if (c >= 128)
            continue;
        if (ascii_class[c] & SPECIAL)
            return 1;
        if (i + 1 < b) {
            Py_UCS4 next = READ(i + 1);
            if ((c == '-' && next == '-') || (c == '\'' && next == '\'') || (c == '`' && next == '`')
                || ((c == '!' || c == '?') && next == '`'))
                return 1;
        }
    }
    return 0;
}

/* An accent on an ASCII letter: precomposed when possible, else letter + combining mark. */
static ALWAYS_INLINE Py_ssize_t
put_accent(Py_UCS4 *out, Py_ssize_t o, Py_UCS4 base, Py_UCS4 command)
{
    int a = accent_of[command];
    if (composed[base][a]) {
        out[o++] = composed[base][a];
    } else {
        out[o++] = base;
        out[o++] = accent_marks[a];
    }
    return o;
}

static ALWAYS_INLINE int
starts_with(int kind, const void *data, Py_ssize_t i, Py_ssize_t b, const char *ascii)
{
    for (; *ascii; ascii++, i++) {
        if (i >= b || READ(i) != (Py_UCS4)(unsigned char)*ascii)
            return 0;
    }
    return 1;
}

/* LETTERS of latex.py: the macro word text[a:a+len] -> its letter, or 0. */
static ALWAYS_INLINE Py_UCS4
named_letter(int kind, const void *data, Py_ssize_t a, Py_ssize_t len)
{
    Py_UCS4 c0 = READ(a);
    if (len == 1) {
        switch (c0) {
        case 'o': return 0x00F8;
        case 'O': return 0x00D8;
        case 'l': return 0x0142;
        case 'L': return 0x0141;
        default: return 0;
        }
    }
    if (len != 2)
        return 0;
    Py_UCS4 c1 = READ(a + 1);
    if (c0 == 's' && c1 == 's') return 0x00DF;
    if (c0 == 'a' && c1 == 'a') return 0x00E5;
    if (c0 == 'A' && c1 == 'A') return 0x00C5;
    if (c0 == 'a' && c1 == 'e') return 0x00E6;
    if (c0 == 'A' && c1 == 'E') return 0x00C6;
    if (c0 == 'o' && c1 == 'e') return 0x0153;
    if (c0 == 'O' && c1 == 'E') return 0x0152;
    return 0;
}

/* _fast_decode(text[a:b]) appended to out at *po; 0 where _fast_decode returns None. Every lookahead
   of TOKEN stops at b, the end of the piece, as it does in Python. */
static ALWAYS_INLINE int
fast_decode(int kind, const void *data, Py_ssize_t a, Py_ssize_t b, Py_UCS4 *out, Py_ssize_t *po)
{
    Py_ssize_t p = a, o = *po, depth = 0;
    while (p < b) {
        Py_UCS4 c = READ(p);
        if (!is(c, STOP)) { /* text: [^\\{}~%#^_$`'!?-]+ */
            do {
                out[o++] = c;
                p++;
            } while (p < b && !is(c = READ(p), STOP));
            continue;
        }
        Py_UCS4 next = p + 1 < b ? READ(p + 1) : NONE;
        switch (c) {
        case '-': case '\'': case '!': case '?': case '`':
            if (next != '-' && next != '\'' && next != '`') { /* text: [-'!?`](?![-'`]) */
                out[o++] = c;
                p++;
            } else if (c != '-') {
                return 0;
            } else if (next != '-') { /* text: -(?!-) */
                out[o++] = '-';
                p++;
            } else if (p + 2 < b && READ(p + 2) == '-') { /* dash */
                out[o++] = 0x2014;
                p += 3;
            } else {
                out[o++] = 0x2013;
                p += 2;
            }
            break;
        case '~':
            out[o++] = 0x00A0;
            p++;
            break;
        case '{':
            depth++;
            p++;
            break;
        case '}':
            if (--depth < 0)
                return 0;
            p++;
            break;
        case '\\':
            if (is(next, SYM)) {
                /* \\(?P<sym>['`^"~=.])(?:(?P<sa>[A-Za-z])|\{(?P<sb>[A-Za-z])\}|(?P<si>\\i(?![A-Za-z])[ \t\n]*|\{\\i\})) */
                Py_ssize_t q = p + 2;
                Py_UCS4 c2 = q < b ? READ(q) : NONE;
                if (is(c2, ALPHA)) {
                    o = put_accent(out, o, c2, next);
                    p = q + 1;
                } else if (c2 == '{' && q + 2 < b && is(READ(q + 1), ALPHA) && READ(q + 2) == '}') {
                    o = put_accent(out, o, READ(q + 1), next);
                    p = q + 3;
                } else if (c2 == '\\' && q + 1 < b && READ(q + 1) == 'i' && !(q + 2 < b && is(READ(q + 2), ALPHA))) {
                    o = put_accent(out, o, 'i', next);
                    p = q + 2;
                    while (p < b && ((c2 = READ(p)) == ' ' || c2 == '\t' || c2 == '\n'))
                        p++;
                } else if (c2 == '{' && starts_with(kind, data, q + 1, b, "\\i}")) {
                    o = put_accent(out, o, 'i', next);
                    p = q + 4;
                } else {
                    return 0;
                }
            } else if (next == 'e' || next == 't') {
                /* \\(?P<ital>emph|textit|textbf)\{(?P<ib>[^\\{}~%#^_$`'!?-]*)\} (no other rule starts so) */
                Py_ssize_t q;
                char tag;
                if (starts_with(kind, data, p + 1, b, "emph{")) {
                    q = p + 6;
                    tag = 'i';
                } else if (starts_with(kind, data, p + 1, b, "textit{")) {
                    q = p + 8;
                    tag = 'i';
                } else if (starts_with(kind, data, p + 1, b, "textbf{")) {
                    q = p + 8;
                    tag = 'b';
                } else {
                    return 0;
                }
                Py_ssize_t r = q;
                while (r < b && !is(READ(r), STOP))
                    r++;
                if (r >= b || READ(r) != '}')
                    return 0;
                out[o++] = '<';
                out[o++] = tag;
                out[o++] = '>';
                for (Py_ssize_t i = q; i < r; i++)
                    out[o++] = READ(i);
                out[o++] = '<';
                out[o++] = '/';
                out[o++] = tag;
                out[o++] = '>';
                p = r + 1;
            } else if (is(next, LET)) {
                /* \\(?P<let>[cvuHkrdb])\{(?P<lb>[A-Za-z])\} (no named letter starts so) */
                if (!(p + 4 < b && READ(p + 2) == '{' && is(READ(p + 3), ALPHA) && READ(p + 4) == '}'))
                    return 0;
                o = put_accent(out, o, READ(p + 3), next);
                p += 5;
            } else if (is(next, ALPHA)) {
                /* \\(?P<named>ss|aa|AA|ae|AE|oe|OE|[oOlL])(?![A-Za-z])(?:\{\})? : the whole letter run */
                Py_ssize_t q = p + 1;
                while (q < b && is(READ(q), ALPHA))
                    q++;
                Py_UCS4 letter = named_letter(kind, data, p + 1, q - (p + 1));
                if (!letter)
                    return 0;
                if (q + 1 < b && READ(q) == '{' && READ(q + 1) == '}')
                    q += 2;
                if (q < b && READ(q) == ' ') /* pylatexenc's rules for the space after a macro word */
                    return 0;
                out[o++] = letter;
                p = q;
            } else if (is(next, ESC)) {
                out[o++] = next;
                p += 2;
            } else {
                return 0;
            }
            break;
        default: /* % # ^ _ $ */
            return 0;
        }
    }
    if (depth != 0)
        return 0;
    *po = o;
    return 1;
}

/* The end of the MATH match `\$(?=[^\s$])(?:[^$\\]|\\.)*?(?<=[^\s\\])\$(?!\d)` at s in the text with
   every `\$` hidden (one ordinary character), or -1. text[s] is a `$` not preceded by `\`. */
static ALWAYS_INLINE Py_ssize_t
dollar_math(int kind, const void *data, Py_ssize_t n, Py_ssize_t s)
{
    Py_ssize_t p = s + 1;
    if (p >= n)
        return -1;
    Py_UCS4 c = READ(p);
    if (c == '$' || Py_UNICODE_ISSPACE(c))
        return -1;
    while (p < n) {
        c = READ(p);
        if (c == '$') {
            /* Not a hidden `\$`: each of those is stepped over whole below, so text[p-1] is not `\`. */
            if (Py_UNICODE_ISSPACE(READ(p - 1)))
                return -1;
            if (p + 1 < n && Py_UNICODE_ISDECIMAL(READ(p + 1)))
                return -1;
            return p + 1; /* the body cannot hold a `$`: the shortest match is the only one */
        }
        if (c == '\\') {
            if (p + 1 >= n)
                return -1;
            Py_UCS4 d = READ(p + 1);
            if (d == '$')
                p += 2; /* a hidden \$ */
            else if (d == '\n')
                return -1; /* `.` does not take a newline */
            else if (d == '\\' && p + 2 < n && READ(p + 2) == '$')
                p += 3; /* a backslash and a hidden \$ */
            else
                p += 2;
        } else {
            p++;
        }
    }
    return -1;
}

/* The text as to_unicode joins it before NFC, into out (which holds at least n characters: no rule
   makes text longer); its length, or -1 where a piece would go to pylatexenc. */
static ALWAYS_INLINE Py_ssize_t
decode_value(int kind, const void *data, Py_ssize_t n, Py_UCS4 *out)
{
    Py_ssize_t o = 0, last = 0, s = 0;
    Py_ssize_t close_at = -2; /* the first `\)` at or after the last search's start; -1: none; -2: not searched */
    while (s < n) {
        Py_UCS4 c = READ(s);
        Py_ssize_t end = -1;
        if (c == '$' && (s == 0 || READ(s - 1) != '\\')) {
            end = dollar_math(kind, data, n, s);
        } else if (c == '\\' && s + 1 < n && READ(s + 1) == '(') {
            /* \\\((?:.|\n)*?\\\) */
            if (close_at == -2 || (close_at >= 0 && close_at < s + 2)) {
                close_at = -1;
                for (Py_ssize_t i = s + 2; i + 1 < n; i++) {
                    if (READ(i) == '\\' && READ(i + 1) == ')') {
                        close_at = i;
                        break;
                    }
                }
            }
            if (close_at >= 0)
                end = close_at + 2;
        }
        if (end < 0) {
            s++;
            continue;
        }
        if (s > last) {
            if (!has_special(kind, data, last, s)) {
                for (Py_ssize_t i = last; i < s; i++)
                    out[o++] = READ(i);
            } else if (!fast_decode(kind, data, last, s, out, &o)) {
                return -1;
            }
        }
        for (Py_ssize_t i = s; i < end; i++)
            out[o++] = READ(i);
        last = s = end;
    }
    if (last < n) {
        if (!has_special(kind, data, last, n)) {
            for (Py_ssize_t i = last; i < n; i++)
                out[o++] = READ(i);
        } else if (!fast_decode(kind, data, last, n, out, &o)) {
            return -1;
        }
    }
    return o;
}

/* The text with whitespace runs as one space and stripped: the text itself (a new reference) when it
   already is so, else a new string. */
static ALWAYS_INLINE PyObject *
collapse_string(PyObject *text, int kind, const void *data, Py_ssize_t n)
{
    Py_ssize_t i;
    int space = 1; /* the previous character was a space, or we are at the start */
    for (i = 0; i < n; i++) {
        Py_UCS4 c = READ(i);
        if (Py_UNICODE_ISSPACE(c)) {
            if (space || c != ' ')
                break;
            space = 1;
        } else {
            space = 0;
        }
    }
    if (i == n && (n == 0 || !space))
        return Py_NewRef(text);
    Py_UCS4 *buf = PyMem_New(Py_UCS4, n);
    if (buf == NULL)
        return PyErr_NoMemory();
    Py_ssize_t o = 0;
    int pending = 0;
    for (i = 0; i < n; i++) {
        Py_UCS4 c = READ(i);
        if (Py_UNICODE_ISSPACE(c)) {
            pending = o > 0;
        } else {
            if (pending) {
                buf[o++] = ' ';
                pending = 0;
            }
            buf[o++] = c;
        }
    }
    PyObject *result = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, o);
    PyMem_Free(buf);
    return result;
}

static PyObject *
collapse_object(PyObject *text)
{
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    switch (kind) {
    case PyUnicode_1BYTE_KIND: return collapse_string(text, PyUnicode_1BYTE_KIND, data, n);
    case PyUnicode_2BYTE_KIND: return collapse_string(text, PyUnicode_2BYTE_KIND, data, n);
    default: return collapse_string(text, PyUnicode_4BYTE_KIND, data, n);
    }
}

/* NFC (by unicodedata), then spaces collapsed. Steals the reference to text. */
static PyObject *
normalize_and_collapse(PyObject *text)
{
    if (text == NULL)
        return NULL;
    PyObject *args[2] = {nfc_name, text};
    PyObject *normal = PyObject_Vectorcall(normalize_fn, args, 2, NULL);
    Py_DECREF(text);
    if (normal == NULL)
        return NULL;
    if (!PyUnicode_CheckExact(normal)) {
        Py_DECREF(normal);
        PyErr_SetString(PyExc_TypeError, "unicodedata.normalize did not return a str");
        return NULL;
    }
    PyObject *result = collapse_object(normal);
    Py_DECREF(normal);
    return result;
}

#define STACK_CHARS 512

static ALWAYS_INLINE PyObject *
convert(PyObject *value, int kind, const void *data, Py_ssize_t n)
{
    /* One pass: is there anything to decode, a U+0000, a character that may need NFC? */
    int special = 0, unsafe = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = READ(i);
        if (c == 0)
            Py_RETURN_NONE;
        if (!nfc_safe(c))
            unsafe = 1;
    }
    special = has_special(kind, data, 0, n);
    if (!special) /* to_unicode's own shortcut: the value is the text */
        return unsafe ? normalize_and_collapse(Py_NewRef(value)) : collapse_string(value, kind, data, n);

    Py_UCS4 stack[STACK_CHARS];
    Py_UCS4 *buf = stack;
    if (n > STACK_CHARS) {
        buf = PyMem_New(Py_UCS4, n);
        if (buf == NULL)
            return PyErr_NoMemory();
    }
    PyObject *result;
    Py_ssize_t len = decode_value(kind, data, n, buf);
    if (len < 0) {
        result = Py_NewRef(Py_None);
    } else {
        int needs_nfc = 0;
        for (Py_ssize_t i = 0; i < len; i++) {
            if (!nfc_safe(buf[i])) {
                needs_nfc = 1;
                break;
            }
        }
        if (needs_nfc) {
            result = normalize_and_collapse(PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, len));
        } else {
            Py_ssize_t o = 0;
            int pending = 0;
            for (Py_ssize_t i = 0; i < len; i++) {
                Py_UCS4 c = buf[i];
                if (Py_UNICODE_ISSPACE(c)) {
                    pending = o > 0;
                } else {
                    if (pending) {
                        buf[o++] = ' ';
                        pending = 0;
                    }
                    buf[o++] = c;
                }
            }
            result = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, o);
        }
    }
    if (buf != stack)
        PyMem_Free(buf);
    return result;
}

#undef READ

static PyObject *
fastlatex_to_unicode(PyObject *module, PyObject *value)
{
    (void)module;
    if (!PyUnicode_CheckExact(value))
        Py_RETURN_NONE; /* the Python code decides what a str subclass or a non-str gives */
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(value) < 0)
        return NULL;
#endif
    const void *data = PyUnicode_DATA(value);
    Py_ssize_t n = PyUnicode_GET_LENGTH(value);
    switch (PyUnicode_KIND(value)) {
    case PyUnicode_1BYTE_KIND: return convert(value, PyUnicode_1BYTE_KIND, data, n);
    case PyUnicode_2BYTE_KIND: return convert(value, PyUnicode_2BYTE_KIND, data, n);
    default: return convert(value, PyUnicode_4BYTE_KIND, data, n);
    }
}

static PyMethodDef fastlatex_methods[] = {
    {"to_unicode", fastlatex_to_unicode, METH_O,
     "to_unicode(value) -> str or None\n\n"
     "What bibsmith.text.latex.to_unicode returns for value, or None when the value needs pylatexenc\n"
     "(or is not an exact str): then the Python code must decode it."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fastlatex_module = {
    PyModuleDef_HEAD_INIT, "bibsmith._fastlatex",
    "to_unicode of bibsmith.text.latex, by hand in C for the common LaTeX of .bib files.", -1, fastlatex_methods,
    NULL, NULL, NULL, NULL,
};

/* The character classes, and the precomposed accents from unicodedata (so that they follow the
   Unicode version of the running Python). */
static int
init_tables(void)
{
    const char *stop = "\\{}~%#^_$`'!?-", *special = "\\{}~%&#^_$", *sym = "'`^\"~=.", *let = "cvuHkrdb",
               *esc = "&%$#_{}";
    for (; *stop; stop++) ascii_class[(unsigned char)*stop] |= STOP;
    for (; *special; special++) ascii_class[(unsigned char)*special] |= SPECIAL;
    for (; *sym; sym++) ascii_class[(unsigned char)*sym] |= SYM;
    for (; *let; let++) ascii_class[(unsigned char)*let] |= LET;
    for (; *esc; esc++) ascii_class[(unsigned char)*esc] |= ESC;
    for (int c = 'A'; c <= 'Z'; c++) ascii_class[c] |= ALPHA;
    for (int c = 'a'; c <= 'z'; c++) ascii_class[c] |= ALPHA;
    for (int c = 0; c < 128; c++) accent_of[c] = -1;
    for (int a = 0; a < N_ACCENTS; a++) accent_of[(unsigned char)accent_keys[a]] = (signed char)a;

    for (int c = 0; c < 128; c++) {
        if (!(ascii_class[c] & ALPHA))
            continue;
        for (int a = 0; a < N_ACCENTS; a++) {
            Py_UCS4 pair[2] = {(Py_UCS4)c, accent_marks[a]};
            PyObject *text = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, pair, 2);
            if (text == NULL)
                return -1;
            PyObject *args[2] = {nfc_name, text};
            PyObject *normal = PyObject_Vectorcall(normalize_fn, args, 2, NULL);
            Py_DECREF(text);
            if (normal == NULL)
                return -1;
            if (PyUnicode_Check(normal) && PyUnicode_GET_LENGTH(normal) == 1) {
                Py_UCS4 one = PyUnicode_READ_CHAR(normal, 0);
                if (one < 0x0300)
                    composed[c][a] = one;
            }
            Py_DECREF(normal);
        }
    }
    return 0;
}

PyMODINIT_FUNC
PyInit__fastlatex(void)
{
    if (normalize_fn == NULL) {
        PyObject *unicodedata = PyImport_ImportModule("unicodedata");
        if (unicodedata == NULL)
            return NULL;
        normalize_fn = PyObject_GetAttrString(unicodedata, "normalize");
        Py_DECREF(unicodedata);
        if (normalize_fn == NULL)
            return NULL;
        nfc_name = PyUnicode_InternFromString("NFC");
        if (nfc_name == NULL || init_tables() < 0) {
            Py_CLEAR(normalize_fn);
            Py_CLEAR(nfc_name);
            return NULL;
        }
    }
    return PyModule_Create(&fastlatex_module);
}
