/* bibsmith._fastnames: names_from_bibtex of bibsmith/text/bibtexnames.py for the common BibTeX name lists.

Why by hand in C: reading the benchmark corpus spends about 40% of its time on name lists, and even
with the caches of bibtexnames.py most fields are new (39,534 distinct author/editor fields among the
41,572 of the first 40,000 entries of corpus-100000.bib): each one pays the _PERSONS regex, findall,
a _person lookup per person and a copy per name in Python. This module does the split, the person
lookup and the copies in one pass over the characters; a person seen before is one dict lookup.
Measured (CPU, best of 3, cold caches, names_from_bibtex over those 41,572 fields): 357-384 ms in
Python, 73 ms with this module (1.8 us per field; to_unicode of the name parts is the same function
either way). Every field of the corpus is taken here; of the IRIDIA library's 5,031 name fields and
@strings, 25 go to Python (a `\&` or an unbraced accent right after a space, `\~{a}`).

What it computes is exactly what names_from_bibtex computes with this module switched off (the Python
code is the specification; tests/test_fastnames.py holds both, and bibtexparser's reference, to the
same output). Name lists outside the shapes below return None ("not mine"), and the Python code reads
them as before:

- white space: " ", tab, CR and LF (the only white space bibtexparser knows); any other Unicode white
  space, control or non-printable character declines;
- braces: balanced, at most five deep (after `\'e` is braced as the reader braces it); a backslash
  inside braces must not escape a brace or a backslash;
- a backslash outside braces only where bibtexparser's splitter reads the escaped pair as two plain
  characters (the _SAFE_ESCAPE rule of bibtexnames.py) and the name parser reads it as part of a word;
- `=` outside braces declines (biblatex's `family=..., given=...` names);
- at most 64 words in one person.

Each person is cached (its read-only CSL name), and each whole field (its names and the `others`
flag); both caches are cleared when full. Callers get fresh dicts on every call. The parts of a name
are decoded by the to_unicode given to configure() (bibsmith.text.latex.to_unicode), never here.
*/

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define MAX_DEPTH 5
#define MAX_WORDS 64
#define FIELD_CACHE_MAX 8192
#define PERSON_CACHE_MAX 65536
#define STACK_CHARS 256

static PyObject *to_unicode_fn; /* bibsmith.text.latex.to_unicode */
static PyObject *field_cache;   /* raw field -> (name, ..., truncated) or None (declined) */
static PyObject *person_cache;  /* person -> name dict, None (others) or False (declined) */
static PyObject *key_family, *key_given, *key_particle, *key_suffix, *key_literal;

#define DECLINED Py_False

static inline int
is_ws(Py_UCS4 c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A character this module reads as it stands (white space included: " \t\r\n"). */
static inline int
ok_char(Py_UCS4 c)
{
    if (c < 0x80)
        return (c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n' || c == '\r';
    return !Py_UNICODE_ISSPACE(c) && Py_UNICODE_ISPRINTABLE(c);
}

static inline int
is_ascii_letter(Py_UCS4 c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline Py_UCS4
ascii_lower(Py_UCS4 c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* ---------------------------------------------------------------- one word's case (_word_case) */
static inline int
case_of(Py_UCS4 c)
{
    return Py_UNICODE_ISUPPER(c) ? 1 : 0;
}

/* 1 upper case, 0 lower case, -1 caseless: _word_case of bibtexnames.py, character for character. */
static int
word_case(const Py_UCS4 *w, Py_ssize_t n)
{
    if (Py_UNICODE_ISALPHA(w[0]))
        return case_of(w[0]);
    Py_ssize_t level = 0;
    int bracestart = 0, controlseq = 0, specialchar = 0;
    Py_ssize_t i = 0;
    while (i < n) {
        Py_UCS4 c = w[i++];
        if (c == '\\' && i < n) {
            Py_UCS4 escaped = w[i++];
            if (is_ws(escaped) || escaped == '~') {
                c = escaped; /* not an escape for BibTeX: the character is read as it stands */
            } else {
                if (bracestart) {
                    bracestart = 0;
                    controlseq = Py_UNICODE_ISALPHA(escaped) ? 1 : 0;
                    specialchar = 1;
                } else if (Py_UNICODE_ISALPHA(escaped)) {
                    return case_of(escaped);
                }
                continue;
            }
        }
        if (c == '{') {
            level++;
            bracestart = 1;
            controlseq = specialchar = 0;
            continue;
        }
        bracestart = 0;
        if (c == '}') {
            if (level > 0)
                level--;
            controlseq = specialchar = 0;
            continue;
        }
        if (level) {
            if (controlseq) {
                if (!Py_UNICODE_ISALPHA(c))
                    controlseq = 0;
            } else if (specialchar && Py_UNICODE_ISALPHA(c)) {
                return case_of(c);
            }
            continue;
        }
        if (Py_UNICODE_ISALPHA(c))
            return case_of(c);
    }
    return -1;
}

/* ---------------------------------------------------------------- one person */
typedef struct {
    Py_ssize_t start[MAX_WORDS], end[MAX_WORDS];
} Words;

/* to_unicode(" ".join(words[lo:hi])) set as name[key] when it is true (non-empty). 0, or -1 on error. */
static int
set_part(PyObject *name, PyObject *key, const Py_UCS4 *buf, const Words *words, Py_ssize_t lo, Py_ssize_t hi)
{
    if (hi <= lo)
        return 0;
    Py_ssize_t length = hi - lo - 1;
    for (Py_ssize_t k = lo; k < hi; k++)
        length += words->end[k] - words->start[k];
    Py_UCS4 stack[STACK_CHARS];
    stack[0] = ' '; /* (every word has a character; this only quiets -Wmaybe-uninitialized) */
    Py_UCS4 *joined = length <= STACK_CHARS ? stack : PyMem_New(Py_UCS4, length);
    if (joined == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t o = 0;
    for (Py_ssize_t k = lo; k < hi; k++) {
        if (k > lo)
            joined[o++] = ' ';
        for (Py_ssize_t i = words->start[k]; i < words->end[k]; i++)
            joined[o++] = buf[i];
    }
    PyObject *text = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, joined, o);
    if (joined != stack)
        PyMem_Free(joined);
    if (text == NULL)
        return -1;
    PyObject *decoded = PyObject_CallOneArg(to_unicode_fn, text);
    Py_DECREF(text);
    if (decoded == NULL)
        return -1;
    int true_ = PyObject_IsTrue(decoded);
    int status = true_ < 0 ? -1 : (true_ ? PyDict_SetItem(name, key, decoded) : 0);
    Py_DECREF(decoded);
    return status;
}

/* first/von/last/jr of the (accent-braced) person in buf, as _parts gives them, decoded into a new
   dict. DECLINED (new reference) where _parts would hand the person to bibtexparser or where this
   module stops (more than MAX_WORDS words); NULL on error. */
static PyObject *
parts_name(const Py_UCS4 *buf, Py_ssize_t n)
{
    Words words;
    Py_ssize_t nw = 0, nsec = 1, sec_start[4] = {0, 0, 0, 0};
    Py_ssize_t i = 0;
    while (i < n) {
        Py_UCS4 c = buf[i];
        if (is_ws(c) || c == '~') {
            i++;
            continue;
        }
        if (c == ',') {
            if (nsec < 3)
                sec_start[nsec++] = nw; /* a fourth section is not started: its words go on in the third */
            i++;
            continue;
        }
        Py_ssize_t start = i;
        while (i < n) {
            c = buf[i];
            if (c == '{') {
                int depth = 1;
                i++;
                while (depth) {
                    if (i >= n)
                        Py_RETURN_FALSE;
                    Py_UCS4 d = buf[i++];
                    if (d == '{') {
                        if (++depth > MAX_DEPTH)
                            Py_RETURN_FALSE;
                    } else if (d == '}') {
                        depth--;
                    } else if (d == '\\') {
                        if (i >= n || buf[i] == '{' || buf[i] == '}' || buf[i] == '\\')
                            Py_RETURN_FALSE;
                        i++;
                    }
                }
            } else if (c == '}') {
                Py_RETURN_FALSE;
            } else if (c == '\\') {
                if (i + 1 >= n)
                    Py_RETURN_FALSE;
                Py_UCS4 d = buf[i + 1];
                if (is_ws(d) || d == '~' || d == '{' || d == '}' || d == '\\')
                    Py_RETURN_FALSE;
                i += 2;
            } else if (is_ws(c) || c == '~' || c == ',') {
                break;
            } else {
                i++;
            }
        }
        if (nw == MAX_WORDS)
            Py_RETURN_FALSE;
        words.start[nw] = start;
        words.end[nw] = i;
        nw++;
    }
    sec_start[nsec] = nw;
    if (sec_start[nsec] == sec_start[nsec - 1])
        nsec--; /* a trailing comma (or nothing at all) */

    /* [lo, hi) word ranges of first, von, last, jr; all empty by default. */
    Py_ssize_t first_lo = 0, first_hi = 0, von_lo = 0, von_hi = 0, last_lo = 0, last_hi = 0, jr_lo = 0, jr_hi = 0;
    int cases[MAX_WORDS];
    if (nsec == 1) { /* First von Last */
        Py_ssize_t count = nw;
        if (count == 1) {
            last_hi = 1;
        } else if (count == 2) {
            first_hi = 1;
            last_lo = 1;
            last_hi = 2;
        } else if (count > 2) {
            Py_ssize_t i0 = -1, i1 = -1;
            for (Py_ssize_t k = 0; k < count; k++) {
                cases[k] = word_case(buf + words.start[k], words.end[k] - words.start[k]);
                if (cases[k] == 0) {
                    if (i0 < 0)
                        i0 = k;
                    i1 = k;
                }
            }
            if (i0 >= 0) {
                if (i1 == count - 1)
                    i1--; /* the last name cannot be empty */
                first_hi = i0;
                von_lo = i0;
                von_hi = i1 + 1;
                last_lo = i1 + 1;
                last_hi = count;
            } else {
                first_hi = count - 1;
                last_lo = count - 1;
                last_hi = count;
            }
        }
    } else if (nsec > 1) { /* von Last, First  or  von Last, Jr, First */
        first_lo = sec_start[nsec - 1];
        first_hi = sec_start[nsec];
        if (nsec == 3) {
            jr_lo = sec_start[1];
            jr_hi = sec_start[2];
        }
        Py_ssize_t count = sec_start[1];
        Py_ssize_t split = 0;
        if (count > 1) {
            for (Py_ssize_t k = 0; k < count; k++)
                cases[k] = word_case(buf + words.start[k], words.end[k] - words.start[k]);
            for (Py_ssize_t k = count - 2; k >= 0; k--) {
                if (cases[k] == 0) {
                    split = k + 1;
                    break;
                }
            }
        }
        von_hi = split;
        last_lo = split;
        last_hi = count;
    }
    PyObject *name = PyDict_New();
    if (name == NULL)
        return NULL;
    if (set_part(name, key_family, buf, &words, last_lo, last_hi) < 0
        || set_part(name, key_given, buf, &words, first_lo, first_hi) < 0
        || set_part(name, key_particle, buf, &words, von_lo, von_hi) < 0
        || set_part(name, key_suffix, buf, &words, jr_lo, jr_hi) < 0) {
        Py_DECREF(name);
        return NULL;
    }
    return name;
}

static inline int
is_accent_command(Py_UCS4 c)
{
    return c == '`' || c == '\'' || c == '^' || c == '"' || c == '~' || c == '=' || c == '.';
}

/* _person of bibtexnames.py for raw[a:b], a person as the splitter cut it: a new dict, None for
   `others`, DECLINED where this module leaves the person to Python; NULL on error. The caller has
   checked the characters, the braces and the backslashes outside braces (the splitter's rules). */
static PyObject *
person_name(PyObject *raw, int kind, const void *data, Py_ssize_t a, Py_ssize_t b)
{
    while (a < b && is_ws(PyUnicode_READ(kind, data, a)))
        a++;
    while (b > a && is_ws(PyUnicode_READ(kind, data, b - 1)))
        b--;
    Py_ssize_t n = b - a;
    if (n == 6) {
        static const char others[] = "others";
        int same = 1;
        for (Py_ssize_t i = 0; i < 6 && same; i++)
            same = ascii_lower(PyUnicode_READ(kind, data, a + i)) == (Py_UCS4)others[i];
        if (same)
            Py_RETURN_NONE;
    }
    if (n >= 2 && PyUnicode_READ(kind, data, a) == '{' && PyUnicode_READ(kind, data, b - 1) == '}') {
        /* _literal: the group opening the person closes at its end (every brace counts). */
        Py_ssize_t depth = 0, close = -1;
        for (Py_ssize_t i = a; i < b; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                close = i;
                break;
            }
        }
        if (close == b - 1) {
            PyObject *inner = PyUnicode_Substring(raw, a + 1, b - 1);
            if (inner == NULL)
                return NULL;
            PyObject *decoded = PyObject_CallOneArg(to_unicode_fn, inner);
            Py_DECREF(inner);
            if (decoded == NULL)
                return NULL;
            PyObject *name = PyDict_New();
            if (name == NULL || PyDict_SetItem(name, key_literal, decoded) < 0) {
                Py_XDECREF(name);
                Py_DECREF(decoded);
                return NULL;
            }
            Py_DECREF(decoded);
            return name;
        }
    }
    /* UNBRACED_ACCENT.sub(r"{\\\1\2}", person): \'e -> {\'e}; at most 5 characters for 3. */
    Py_UCS4 stack[STACK_CHARS];
    Py_ssize_t size = 2 * n + 1;
    Py_UCS4 *buf = size <= STACK_CHARS ? stack : PyMem_New(Py_UCS4, size);
    if (buf == NULL)
        return PyErr_NoMemory();
    Py_ssize_t o = 0;
    for (Py_ssize_t i = a; i < b;) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == '\\' && i + 2 < b) {
            Py_UCS4 command = PyUnicode_READ(kind, data, i + 1), letter = PyUnicode_READ(kind, data, i + 2);
            if (is_accent_command(command) && is_ascii_letter(letter)) {
                buf[o++] = '{';
                buf[o++] = '\\';
                buf[o++] = command;
                buf[o++] = letter;
                buf[o++] = '}';
                i += 3;
                continue;
            }
        }
        buf[o++] = c;
        i++;
    }
    PyObject *name = parts_name(buf, o);
    if (buf != stack)
        PyMem_Free(buf);
    return name;
}

/* The person raw[a:b] through the person cache (new reference; NULL on error). */
static PyObject *
cached_person(PyObject *raw, int kind, const void *data, Py_ssize_t a, Py_ssize_t b)
{
    PyObject *key = PyUnicode_Substring(raw, a, b);
    if (key == NULL)
        return NULL;
    PyObject *name = PyDict_GetItemWithError(person_cache, key);
    if (name != NULL) {
        Py_INCREF(name);
        Py_DECREF(key);
        return name;
    }
    if (PyErr_Occurred()) {
        Py_DECREF(key);
        return NULL;
    }
    name = person_name(raw, kind, data, a, b);
    if (name == NULL) {
        Py_DECREF(key);
        return NULL;
    }
    if (PyDict_GET_SIZE(person_cache) >= PERSON_CACHE_MAX)
        PyDict_Clear(person_cache);
    int status = PyDict_SetItem(person_cache, key, name);
    Py_DECREF(key);
    if (status < 0) {
        Py_DECREF(name);
        return NULL;
    }
    return name;
}

/* ---------------------------------------------------------------- the list */
/* Appends the person raw[a:b] to names, or sets *truncated for `others`. 1 added, 0 declined, -1 error. */
static int
add_person(PyObject *names, int *truncated, PyObject *raw, int kind, const void *data, Py_ssize_t a,
           Py_ssize_t b)
{
    PyObject *name = cached_person(raw, kind, data, a, b);
    if (name == NULL)
        return -1;
    if (name == DECLINED) {
        Py_DECREF(name);
        return 0;
    }
    if (name == Py_None) {
        Py_DECREF(name);
        *truncated = 1;
        return 1;
    }
    int status = PyList_Append(names, name);
    Py_DECREF(name);
    return status < 0 ? -1 : 1;
}

/* The whole field: a new tuple (name, ..., truncated), None where this module declines, NULL on
   error. The split is _split_persons's: at white space + `and` (any case) + white space outside
   braces, the list stripped of " \t\r\n". */
static PyObject *
field_names(PyObject *raw)
{
    int kind = PyUnicode_KIND(raw);
    const void *data = PyUnicode_DATA(raw);
    Py_ssize_t s = 0, e = PyUnicode_GET_LENGTH(raw);
#define READ(i) PyUnicode_READ(kind, data, (i))
    while (s < e && is_ws(READ(s)))
        s++;
    while (e > s && is_ws(READ(e - 1)))
        e--;
    PyObject *names = PyList_New(0);
    if (names == NULL)
        return NULL;
    int truncated = 0, depth = 0, status;
    Py_ssize_t person = s, pos = s;
    while (pos < e) {
        Py_UCS4 c = READ(pos);
        if (c == '{') {
            if (++depth > MAX_DEPTH)
                goto decline;
            pos++;
            continue;
        }
        if (c == '}') {
            if (depth == 0)
                goto decline;
            depth--;
            pos++;
            continue;
        }
        if (c == '\\') {
            if (pos + 1 >= e)
                goto decline;
            Py_UCS4 escaped = READ(pos + 1);
            if (escaped == '{' || escaped == '}' || escaped == '\\' || !ok_char(escaped))
                goto decline;
            if (depth == 0) {
                /* _SAFE_ESCAPE: not after white space, or white space and `a`, `an`, `and` (inside the
                   stripped list); not in front of white space. */
                if (is_ws(escaped))
                    goto decline;
                static const char and_[] = "and";
                for (Py_ssize_t k = 0; k < 4 && pos - 1 - k >= s; k++) {
                    /* White space, then the first k letters of "and" right before the backslash. */
                    int after = is_ws(READ(pos - 1 - k));
                    for (Py_ssize_t j = 0; j < k && after; j++)
                        after = ascii_lower(READ(pos - k + j)) == (Py_UCS4)and_[j];
                    if (after)
                        goto decline;
                }
            }
            pos += 2;
            continue;
        }
        if (!ok_char(c))
            goto decline;
        if (depth == 0) {
            if (c == '=')
                goto decline; /* biblatex's extended names */
            if (is_ws(c)) {
                Py_ssize_t r = pos + 1;
                while (r < e && is_ws(READ(r)))
                    r++;
                if (r + 3 < e && ascii_lower(READ(r)) == 'a' && ascii_lower(READ(r + 1)) == 'n'
                    && ascii_lower(READ(r + 2)) == 'd' && is_ws(READ(r + 3))) {
                    Py_ssize_t q = r + 4;
                    while (q < e && is_ws(READ(q)))
                        q++;
                    if (q < e) { /* a separator: [pos, q) */
                        status = add_person(names, &truncated, raw, kind, data, person, pos);
                        if (status < 0)
                            goto error;
                        if (status == 0)
                            goto decline;
                        person = pos = q;
                        continue;
                    }
                }
                pos = r;
                continue;
            }
        }
        pos++;
    }
    if (depth != 0)
        goto decline;
    if (person < e) {
        status = add_person(names, &truncated, raw, kind, data, person, e);
        if (status < 0)
            goto error;
        if (status == 0)
            goto decline;
    }
#undef READ
    Py_ssize_t count = PyList_GET_SIZE(names);
    PyObject *result = PyTuple_New(count + 1);
    if (result == NULL)
        goto error;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *name = PyList_GET_ITEM(names, k);
        Py_INCREF(name);
        PyTuple_SET_ITEM(result, k, name);
    }
    PyObject *flag = truncated ? Py_True : Py_False;
    Py_INCREF(flag);
    PyTuple_SET_ITEM(result, count, flag);
    Py_DECREF(names);
    return result;
decline:
    Py_DECREF(names);
    Py_RETURN_NONE;
error:
    Py_DECREF(names);
    return NULL;
}

/* ([fresh copies of the names], truncated) from a cached (name, ..., truncated). */
static PyObject *
fresh(PyObject *cached)
{
    Py_ssize_t count = PyTuple_GET_SIZE(cached) - 1;
    PyObject *list = PyList_New(count);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *copy = PyDict_Copy(PyTuple_GET_ITEM(cached, k));
        if (copy == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, k, copy);
    }
    PyObject *flag = PyTuple_GET_ITEM(cached, count);
    PyObject *result = PyTuple_New(2);
    if (result == NULL) {
        Py_DECREF(list);
        return NULL;
    }
    Py_INCREF(flag);
    PyTuple_SET_ITEM(result, 0, list);
    PyTuple_SET_ITEM(result, 1, flag);
    return result;
}

static PyObject *
fastnames_names(PyObject *module, PyObject *raw)
{
    (void)module;
    if (to_unicode_fn == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "bibsmith._fastnames.configure() was not called");
        return NULL;
    }
    if (!PyUnicode_CheckExact(raw))
        Py_RETURN_NONE;
    PyObject *cached = PyDict_GetItemWithError(field_cache, raw);
    if (cached != NULL) {
        Py_INCREF(cached);
    } else {
        if (PyErr_Occurred())
            return NULL;
        cached = field_names(raw);
        if (cached == NULL)
            return NULL;
        if (PyDict_GET_SIZE(field_cache) >= FIELD_CACHE_MAX)
            PyDict_Clear(field_cache);
        if (PyDict_SetItem(field_cache, raw, cached) < 0) {
            Py_DECREF(cached);
            return NULL;
        }
    }
    if (cached == Py_None)
        return cached;
    PyObject *result = fresh(cached);
    Py_DECREF(cached);
    return result;
}

static PyObject *
fastnames_configure(PyObject *module, PyObject *function)
{
    (void)module;
    if (!PyCallable_Check(function)) {
        PyErr_SetString(PyExc_TypeError, "configure(to_unicode): to_unicode must be callable");
        return NULL;
    }
    Py_INCREF(function);
    Py_XSETREF(to_unicode_fn, function);
    PyDict_Clear(field_cache);
    PyDict_Clear(person_cache);
    Py_RETURN_NONE;
}

static PyObject *
fastnames_clear(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    PyDict_Clear(field_cache);
    PyDict_Clear(person_cache);
    Py_RETURN_NONE;
}

static PyObject *
fastnames_cache_sizes(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return Py_BuildValue("(nn)", PyDict_GET_SIZE(field_cache), PyDict_GET_SIZE(person_cache));
}

static PyMethodDef fastnames_methods[] = {
    {"names", fastnames_names, METH_O,
     "names(raw) -> (list of dicts, truncated) or None\n\n"
     "What bibsmith.text.bibtexnames.names_from_bibtex returns for raw (fresh dicts on every call), or\n"
     "None when this module leaves the name list to the Python code."},
    {"configure", fastnames_configure, METH_O,
     "configure(to_unicode): the decoder of name parts (bibsmith.text.latex.to_unicode); clears the caches."},
    {"clear", fastnames_clear, METH_NOARGS, "clear(): empty the person and field caches."},
    {"cache_sizes", fastnames_cache_sizes, METH_NOARGS, "cache_sizes() -> (fields, persons) cached."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fastnames_module = {
    PyModuleDef_HEAD_INIT, "bibsmith._fastnames",
    "names_from_bibtex of bibsmith.text.bibtexnames, by hand in C for the common BibTeX name lists.", -1,
    fastnames_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__fastnames(void)
{
    if (field_cache == NULL) {
        field_cache = PyDict_New();
        person_cache = PyDict_New();
        key_family = PyUnicode_InternFromString("family");
        key_given = PyUnicode_InternFromString("given");
        key_particle = PyUnicode_InternFromString("non-dropping-particle");
        key_suffix = PyUnicode_InternFromString("suffix");
        key_literal = PyUnicode_InternFromString("literal");
        if (field_cache == NULL || person_cache == NULL || key_family == NULL || key_given == NULL
            || key_particle == NULL || key_suffix == NULL || key_literal == NULL) {
            Py_CLEAR(field_cache);
            Py_CLEAR(person_cache);
            Py_CLEAR(key_family);
            Py_CLEAR(key_given);
            Py_CLEAR(key_particle);
            Py_CLEAR(key_suffix);
            Py_CLEAR(key_literal);
            return NULL;
        }
    }
    return PyModule_Create(&fastnames_module);
}
