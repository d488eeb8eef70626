/* bibsmith._fastsplit: bibsmith.readers.bibtex_split.split, by hand in C.
 *
 * Why by hand in C: the regex splitter (bibtex_split._split_python) costs 17.5-18.3 us per entry on the
 * benchmark corpus (.bench/corpus-10000.bib, 10,000 entries; best of 5, CPU time): per entry a
 * BLOCK_START.search, ENTRY_KEY.match, ENTRY_BODY.match and FIELD.findall, match objects, two
 * str.strip() per field and the namedtuple call, all of it interpreted. This module walks each block
 * once with the same grammar and makes the same RawEntry / RawString tuples itself: 3.4-3.6 us per
 * entry on the same corpus (1.2 us without the fields). What the time went to, measured on the way:
 * the two text.find calls of the Python code (0.8 us per entry on a 2-byte string, now made while the
 * text is walked anyway), garbage collections set off by the new tuples (0.8 us; no collection runs
 * during the call, and the (name, value) tuples are untracked as the collector would do), and one new
 * str per field name (0.4 us; names are shared within a call).
 *
 * The regular expressions in bibtex_split.py are the specification, and the pure-Python split is the
 * reference in tests/test_fastsplit.py (every fixture, the IRIDIA files, the conformance inputs, a
 * generated corpus, chunk bounds and thousands of random mutations must give equal results). How each
 * regex is reproduced:
 *   - every match is bounded by `end` (the regexes' endpos): no character at or after `end` is read;
 *   - possessive loops whose alternatives are tried in order become one deterministic left-to-right
 *     walk; a braced group that fails (unclosed, or more than 8 levels inside its outer brace) stops
 *     the loop at its `{`, which then fails whatever follows;
 *   - `\w` is Py_UNICODE_ISALNUM or `_` and `\s` is Py_UNICODE_ISSPACE, as in the re module;
 *     str.strip() is Py_UNICODE_ISSPACE too; kinds with a non-ASCII character are lower-cased by
 *     str.lower() itself;
 *   - FIELD.findall over the span ENTRY_BODY accepted yields exactly the fields the body's loop
 *     matched (each FIELD match starts where the previous ended), so the fields are taken in one walk;
 *   - every refusal of the Python code gives the same None, so they may be found in any order: the
 *     backslash-newline and `{"}` of its two text.find calls are looked for while the text between
 *     and over the blocks is walked for lines and LINE_START_BLOCK (a successful split walks all of
 *     text[start:end]);
 *   - RawEntry / RawString (given by the caller) are made by their tp_alloc and filled, which is what
 *     tuple.__new__ does for a subclass, and all NamedTuple.__new__ does.
 * Arguments outside what this code reproduces (a str subclass, start/end not 0 <= start <= end <=
 * len(text), a non-int start/end/line, a keep_fields that is not a bool) return NotImplemented and
 * the caller runs the Python code.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define FS_INLINE static inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define FS_INLINE static __forceinline
#else
#define FS_INLINE static inline
#endif

#define FAIL ((Py_ssize_t)-1)
#define MAX_DEPTH 9 /* the outer brace of a braced value and 8 levels inside it (_braced(8)) */
#define PAIRWISE_NAMES 24 /* duplicate field names: compared pairwise up to this many, then a set */
#define KIND_CACHE 8
#define NAME_SLOTS 256 /* field names met in one call, shared (a power of two) */
#define NAME_CACHE_LEN 40 /* longer names are not shared */
#define KIND_CACHE_LEN 32

/* ASCII classes. */
#define C_ESC 1   /* may follow a backslash as an escaped delimiter: { } " , = \n */
#define C_NAME 2  /* ends a key / field name: { } " , = \ */
#define C_PLAIN 4 /* ends a plain run in a value outside braces and quotes: { } " , \ */
#define C_BRACE 8 /* ends a run inside braces: { } \ */
#define C_QUOTE 16 /* ends a run inside quotes: " \ */
#define C_WORD 32 /* \w */
#define C_SPACE 64 /* \s, str.strip() */
#define C_WALK 128 /* looked at between and over blocks: \n \ " (and @ between blocks) */

static unsigned char classes[128];

static void
init_classes(void)
{
    int c;
    for (c = 0; c < 128; c++) {
        unsigned char k = 0;
        if (c == '{' || c == '}' || c == '"' || c == ',' || c == '=' || c == '\n')
            k |= C_ESC;
        if (c == '{' || c == '}' || c == '"' || c == ',' || c == '=' || c == '\\')
            k |= C_NAME;
        if (c == '{' || c == '}' || c == '"' || c == ',' || c == '\\')
            k |= C_PLAIN;
        if (c == '{' || c == '}' || c == '\\')
            k |= C_BRACE;
        if (c == '"' || c == '\\')
            k |= C_QUOTE;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            k |= C_WORD;
        if (Py_UNICODE_ISSPACE((Py_UCS4)c))
            k |= C_SPACE;
        if (c == '\n' || c == '\\' || c == '"' || c == '@')
            k |= C_WALK;
        classes[c] = k;
    }
}

#define HAS(c, flag) ((c) < 128 && (classes[(c)] & (flag)))

FS_INLINE int
is_word(Py_UCS4 c)
{
    if (c < 128)
        return (classes[c] & C_WORD) != 0;
    return Py_UNICODE_ISALNUM(c);
}

FS_INLINE int
is_space(Py_UCS4 c)
{
    if (c < 128)
        return (classes[c] & C_SPACE) != 0;
    return Py_UNICODE_ISSPACE(c);
}

/* The text being split; `n` is `end`: nothing at or after it is read. */
typedef struct {
    const void *data;
    Py_ssize_t start, n;
} Text;

FS_INLINE Py_UCS4
rd(int kind, const void *data, Py_ssize_t i)
{
    if (kind == PyUnicode_1BYTE_KIND)
        return ((const Py_UCS1 *)data)[i];
    if (kind == PyUnicode_2BYTE_KIND)
        return ((const Py_UCS2 *)data)[i];
    return ((const Py_UCS4 *)data)[i];
}

#define R(i) rd(kind, t->data, (i))

/* `\\[{}",=\n]?` at a backslash at i. */
FS_INLINE Py_ssize_t
skip_escape(int kind, const Text *t, Py_ssize_t i)
{
    if (i + 1 < t->n) {
        Py_UCS4 c = R(i + 1);
        if (HAS(c, C_ESC))
            return i + 2;
    }
    return i + 1;
}

/* _BRACED at the `{` at i: the end of the group, or FAIL (unclosed, or nested too deep). */
FS_INLINE Py_ssize_t
scan_braced(int kind, const Text *t, Py_ssize_t i)
{
    const Py_ssize_t n = t->n;
    int depth = 1;
    i++;
    while (i < n) {
        Py_UCS4 c = R(i);
        if (!HAS(c, C_BRACE)) {
            i++;
            continue;
        }
        if (c == '\\') {
            i = skip_escape(kind, t, i);
        }
        else if (c == '{') {
            if (++depth > MAX_DEPTH)
                return FAIL;
            i++;
        }
        else { /* } */
            i++;
            if (--depth == 0)
                return i;
        }
    }
    return FAIL;
}

/* _QUOTED at the `"` at i: the end of the string, or FAIL. */
FS_INLINE Py_ssize_t
scan_quoted(int kind, const Text *t, Py_ssize_t i)
{
    const Py_ssize_t n = t->n;
    i++;
    while (i < n) {
        Py_UCS4 c = R(i);
        if (!HAS(c, C_QUOTE)) {
            i++;
            continue;
        }
        if (c == '\\')
            i = skip_escape(kind, t, i);
        else
            return i + 1;
    }
    return FAIL;
}

/* _VALUE (always matches): where it stops. */
FS_INLINE Py_ssize_t
scan_value(int kind, const Text *t, Py_ssize_t i)
{
    const Py_ssize_t n = t->n;
    while (i < n) {
        Py_UCS4 c = R(i);
        Py_ssize_t next;
        if (!HAS(c, C_PLAIN)) {
            i++;
            continue;
        }
        if (c == '\\') {
            i = skip_escape(kind, t, i);
            continue;
        }
        if (c == '{')
            next = scan_braced(kind, t, i);
        else if (c == '"')
            next = scan_quoted(kind, t, i);
        else /* , or } */
            return i;
        if (next == FAIL)
            return i;
        i = next;
    }
    return i;
}

/* `[^{}",=\\]*+`: where the run stops. */
FS_INLINE Py_ssize_t
scan_name(int kind, const Text *t, Py_ssize_t i)
{
    const Py_ssize_t n = t->n;
    while (i < n) {
        Py_UCS4 c = R(i);
        if (HAS(c, C_NAME))
            return i;
        i++;
    }
    return i;
}

/* `@\w*[ \t]*[{(]` at the `@` at i: the position of the `{` or `(`, or FAIL; *kind_end is set to the
 * end of the \w run, and *resume to where a search for the next `@` may go on when it fails. */
FS_INLINE Py_ssize_t
block_start_at(int kind, const Text *t, Py_ssize_t i, Py_ssize_t limit, Py_ssize_t *kind_end, Py_ssize_t *resume)
{
    Py_ssize_t j = i + 1;
    while (j < limit && is_word(R(j)))
        j++;
    *kind_end = j;
    while (j < limit && (R(j) == ' ' || R(j) == '\t'))
        j++;
    *resume = j;
    if (j < limit) {
        Py_UCS4 c = R(j);
        if (c == '{' || c == '(')
            return j;
    }
    return FAIL;
}

/* Whether the character at i is a backslash or quote that starts or centres `\\\n` or `{"}` in text[start:end] (either
 * makes split return None). Every character of text[start:end] passes through here or through the
 * search for the next block when the split succeeds, so the two text.find calls of the Python code
 * are made on the way. */
FS_INLINE int
escape_at(int kind, const Text *t, Py_ssize_t i)
{
    Py_UCS4 c = R(i);
    if (c == '\\')
        return i + 1 < t->n && R(i + 1) == '\n';
    if (c == '"')
        return i > t->start && i + 1 < t->n && R(i - 1) == '{' && R(i + 1) == '}';
    return 0;
}

/* Over text[a:b], a block: its `\n`s (added to *line), whether LINE_START_BLOCK matches in it, and
 * escape_at: 1 if split must return None, else 0. */
FS_INLINE int
walk_block(int kind, const Text *t, Py_ssize_t a, Py_ssize_t b, long long *line)
{
    Py_ssize_t i = a, kind_end, resume;
    while (i < b) {
        Py_ssize_t j;
        Py_UCS4 c = R(i);
        if (!HAS(c, C_WALK)) {
            i++;
            continue;
        }
        if (c != '\n') {
            if (escape_at(kind, t, i))
                return 1;
            i++;
            continue;
        }
        (*line)++;
        j = i + 1;
        /* `\s*`: no backslash or quote is skipped here */
        while (j < b) {
            c = R(j);
            if (!is_space(c))
                break;
            if (c == '\n')
                (*line)++;
            j++;
        }
        if (j < b && R(j) == '@' && block_start_at(kind, t, j, b, &kind_end, &resume) != FAIL)
            return 1;
        i = j;
    }
    return 0;
}

/* Bounds of text[a:b].strip(). */
FS_INLINE void
strip(int kind, const Text *t, Py_ssize_t *a, Py_ssize_t *b)
{
    while (*a < *b && is_space(R(*a)))
        (*a)++;
    while (*b > *a && is_space(R(*b - 1)))
        (*b)--;
}

typedef struct {
    PyObject *text;
    PyTypeObject *entry_type;
    PyTypeObject *string_type;
    int keep_fields;
    /* Lower-cased ASCII kinds met so far in this call (new str objects only for new kinds). */
    PyObject *kinds[KIND_CACHE];
    int nkinds;
    /* Stripped field names of the current entry, for the duplicate check. */
    Py_ssize_t *names;
    Py_ssize_t names_cap;
    /* One str per field name (as written, stripped) met in this call: an open-addressing table of
     * the names' first spans in the text. */
    struct {
        PyObject *name;
        Py_ssize_t a, b;
    } slots[NAME_SLOTS];
    int used_slots;
} State;

static PyObject *str_comment, *str_preamble, *str_string, *str_lower;

/* A tuple subclass instance (the namedtuple) of n new references, as tuple.__new__ makes it. */
static PyObject *
make_tuple(PyTypeObject *type, PyObject **items, Py_ssize_t n)
{
    Py_ssize_t i;
    PyObject *result = type->tp_alloc(type, n);
    if (result == NULL) {
        for (i = 0; i < n; i++)
            Py_XDECREF(items[i]);
        return NULL;
    }
    for (i = 0; i < n; i++)
        PyTuple_SET_ITEM(result, i, items[i]);
    return result;
}

/* kind of block: 0 entry, 1 comment/preamble, 2 string; *lowered gets the lower-cased kind (a new
 * reference) for an entry. -1 on error. */
FS_INLINE int
block_kind(int kind, const Text *t, State *s, Py_ssize_t a, Py_ssize_t b, PyObject **lowered)
{
    Py_ssize_t i, len = b - a;
    int ascii = 1;
    *lowered = NULL;
    for (i = a; i < b; i++) {
        if (R(i) >= 128) {
            ascii = 0;
            break;
        }
    }
    if (ascii) {
        char buffer[8];
        Py_ssize_t m = len < 8 ? len : 8;
        int k;
        for (i = 0; i < m; i++) {
            Py_UCS4 c = R(a + i);
            buffer[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        }
        /* only @comment itself: @commentary and @commented are biblatex entry types */
        if ((len == 7 && memcmp(buffer, "comment", 7) == 0) || (m >= 8 && memcmp(buffer, "preamble", 8) == 0))
            return 1;
        if (m >= 6 && memcmp(buffer, "string", 6) == 0)
            return 2;
        for (k = 0; k < s->nkinds; k++) {
            PyObject *cached = s->kinds[k];
            const Py_UCS1 *chars = PyUnicode_1BYTE_DATA(cached);
            if (PyUnicode_GET_LENGTH(cached) != len)
                continue;
            for (i = 0; i < len; i++) {
                Py_UCS4 c = R(a + i);
                if ((c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c) != chars[i])
                    break;
            }
            if (i == len) {
                Py_INCREF(cached);
                *lowered = cached;
                return 0;
            }
        }
        {
            PyObject *made = PyUnicode_New(len, 127);
            Py_UCS1 *chars;
            if (made == NULL)
                return -1;
            chars = PyUnicode_1BYTE_DATA(made);
            for (i = 0; i < len; i++) {
                Py_UCS4 c = R(a + i);
                chars[i] = (Py_UCS1)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
            }
            if (len <= KIND_CACHE_LEN && s->nkinds < KIND_CACHE) {
                Py_INCREF(made);
                s->kinds[s->nkinds++] = made;
            }
            *lowered = made;
            return 0;
        }
    }
    else {
        PyObject *sub = PyUnicode_Substring(s->text, a, b);
        PyObject *low;
        Py_ssize_t r;
        if (sub == NULL)
            return -1;
        low = PyObject_CallMethodNoArgs(sub, str_lower);
        Py_DECREF(sub);
        if (low == NULL)
            return -1;
        if (!PyUnicode_Check(low)) {
            Py_DECREF(low);
            PyErr_SetString(PyExc_TypeError, "str.lower() did not return a str");
            return -1;
        }
        r = PyUnicode_Compare(low, str_comment) == 0;
        if (r == 0 && PyErr_Occurred()) {
            Py_DECREF(low);
            return -1;
        }
        if (r == 0)
            r = PyUnicode_Tailmatch(low, str_preamble, 0, PY_SSIZE_T_MAX, -1);
        if (r != 0) {
            Py_DECREF(low);
            return r < 0 ? -1 : 1;
        }
        r = PyUnicode_Tailmatch(low, str_string, 0, PY_SSIZE_T_MAX, -1);
        if (r != 0) {
            Py_DECREF(low);
            return r < 0 ? -1 : 2;
        }
        *lowered = low;
        return 0;
    }
}

FS_INLINE PyObject *
stripped(int kind, const Text *t, State *s, Py_ssize_t a, Py_ssize_t b)
{
    strip(kind, t, &a, &b);
    return PyUnicode_Substring(s->text, a, b);
}

/* Whether text[a:b] equals text[c:d]. */
FS_INLINE int
same_span(int kind, const Text *t, Py_ssize_t a, Py_ssize_t b, Py_ssize_t c, Py_ssize_t d)
{
    Py_ssize_t i;
    if (b - a != d - c)
        return 0;
    for (i = 0; i < b - a; i++)
        if (R(a + i) != R(c + i))
            return 0;
    return 1;
}

/* text[a:b] as a str, the same object for the same field name within a call. */
FS_INLINE PyObject *
field_name(int kind, const Text *t, State *s, Py_ssize_t a, Py_ssize_t b)
{
    Py_ssize_t i;
    size_t hash = (size_t)(b - a), slot;
    PyObject *name;
    if (b - a > NAME_CACHE_LEN)
        return PyUnicode_Substring(s->text, a, b);
    for (i = a; i < b; i++)
        hash = (hash ^ R(i)) * 16777619u;
    for (slot = hash & (NAME_SLOTS - 1);; slot = (slot + 1) & (NAME_SLOTS - 1)) {
        if (s->slots[slot].name == NULL)
            break;
        if (same_span(kind, t, s->slots[slot].a, s->slots[slot].b, a, b)) {
            Py_INCREF(s->slots[slot].name);
            return s->slots[slot].name;
        }
    }
    name = PyUnicode_Substring(s->text, a, b);
    if (name != NULL && s->used_slots < NAME_SLOTS / 2) { /* half full at most: probes stay short */
        s->used_slots++;
        s->slots[slot].name = name;
        s->slots[slot].a = a;
        s->slots[slot].b = b;
        Py_INCREF(name);
    }
    return name;
}

/* Outcome of a block or of the whole split. */
#define OK 0
#define GIVE_UP 1 /* split returns None */
#define ERROR 2   /* a Python exception is set */

/* Field names of one entry with keep_fields: 1 if one is empty or repeated (None), 0 if not, -1 on error. */
FS_INLINE int
bad_names(int kind, const Text *t, PyObject *fields, const Py_ssize_t *names, Py_ssize_t count)
{
    Py_ssize_t i, j;
    for (i = 0; i < count; i++)
        if (names[2 * i] == names[2 * i + 1])
            return 1;
    if (count <= PAIRWISE_NAMES) {
        for (i = 1; i < count; i++)
            for (j = 0; j < i; j++)
                if (same_span(kind, t, names[2 * i], names[2 * i + 1], names[2 * j], names[2 * j + 1]))
                    return 1;
        return 0;
    }
    else {
        PyObject *seen = PySet_New(NULL);
        if (seen == NULL)
            return -1;
        for (i = 0; i < count; i++) {
            PyObject *name = PyTuple_GET_ITEM(PyList_GET_ITEM(fields, i), 0);
            if (PySet_Add(seen, name) < 0) {
                Py_DECREF(seen);
                return -1;
            }
        }
        i = PySet_GET_SIZE(seen);
        Py_DECREF(seen);
        return i != count;
    }
}

FS_INLINE int
keep_name(State *s, Py_ssize_t count, Py_ssize_t a, Py_ssize_t b)
{
    if (count >= s->names_cap) {
        Py_ssize_t cap = s->names_cap ? 2 * s->names_cap : 32;
        Py_ssize_t *grown = PyMem_Realloc(s->names, (size_t)cap * 2 * sizeof(Py_ssize_t));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        s->names = grown;
        s->names_cap = cap;
    }
    s->names[2 * count] = a;
    s->names[2 * count + 1] = b;
    return 0;
}

/* The fields of an entry after its key's comma at p (ENTRY_BODY, then FIELD.findall): *block_end is
 * set; *fields gets the list when keep_fields (else stays NULL). */
FS_INLINE int
entry_body(int kind, const Text *t, State *s, Py_ssize_t p, Py_ssize_t *block_end, PyObject **fields)
{
    const Py_ssize_t n = t->n;
    PyObject *list = NULL;
    Py_ssize_t count = 0;
    *fields = NULL;
    if (s->keep_fields) {
        list = PyList_New(0);
        if (list == NULL)
            return ERROR;
    }
    for (;;) {
        Py_ssize_t q = scan_name(kind, t, p), v = FAIL;
        Py_UCS4 stop = 0;
        if (q < n && R(q) == '=') {
            v = scan_value(kind, t, q + 1);
            if (v < n)
                stop = R(v);
        }
        if (stop == ',' || stop == '}') {
            if (list != NULL) {
                Py_ssize_t na = p, nb = q;
                PyObject *pair, *name, *value;
                strip(kind, t, &na, &nb);
                if (keep_name(s, count, na, nb) < 0)
                    goto error;
                name = field_name(kind, t, s, na, nb);
                if (name == NULL)
                    goto error;
                value = stripped(kind, t, s, q + 1, v);
                if (value == NULL) {
                    Py_DECREF(name);
                    goto error;
                }
                pair = PyTuple_New(2);
                if (pair == NULL) {
                    Py_DECREF(name);
                    Py_DECREF(value);
                    goto error;
                }
                PyTuple_SET_ITEM(pair, 0, name);
                PyTuple_SET_ITEM(pair, 1, value);
                PyObject_GC_UnTrack(pair); /* two str: what the collector would do itself */
                if (PyList_Append(list, pair) < 0) {
                    Py_DECREF(pair);
                    goto error;
                }
                Py_DECREF(pair);
            }
            count++;
            if (stop == ',') {
                p = v + 1;
                continue;
            }
            *block_end = v + 1;
            break;
        }
        /* `\s*+\}` */
        while (p < n && is_space(R(p)))
            p++;
        if (p < n && R(p) == '}') {
            *block_end = p + 1;
            break;
        }
        Py_XDECREF(list);
        return GIVE_UP;
    }
    if (list != NULL) {
        int bad = bad_names(kind, t, list, s->names, count);
        if (bad != 0) {
            Py_DECREF(list);
            return bad < 0 ? ERROR : GIVE_UP;
        }
    }
    *fields = list;
    return OK;
error:
    Py_XDECREF(list);
    return ERROR;
}

/* Appends `made` (a new reference, NULL after an error) to `blocks`: 0, or -1 on error. */
static int
add_made(PyObject *blocks, PyObject *made)
{
    int result;
    if (made == NULL)
        return -1;
    result = PyList_Append(blocks, made);
    Py_DECREF(made);
    return result;
}

/* Adds `key` to `keys`: 1 if it was there already, 0 if not, -1 on error. */
static int
add_key(PyObject *keys, PyObject *key)
{
    Py_ssize_t size = PySet_GET_SIZE(keys);
    if (PySet_Add(keys, key) < 0)
        return -1;
    return PySet_GET_SIZE(keys) == size;
}

FS_INLINE int
split_kind(int kind, const Text *t, State *s, Py_ssize_t start, long long line, PyObject *blocks)
{
    const Py_ssize_t n = t->n;
    Py_ssize_t pos = start;
    PyObject *entry_keys = NULL, *string_keys = NULL;
    int outcome = ERROR;

    entry_keys = PySet_New(NULL);
    string_keys = PySet_New(NULL);
    if (entry_keys == NULL || string_keys == NULL)
        goto done;
    for (;;) {
        Py_ssize_t i = pos, at = FAIL, kind_end = 0, brace = FAIL, block_end, resume;
        int block;
        PyObject *lowered = NULL;

        /* BLOCK_START.search(text, pos, end), counting lines on the way */
        while (i < n) {
            Py_UCS4 c = R(i);
            if (!HAS(c, C_WALK)) {
                i++;
            }
            else if (c == '\n') {
                line++;
                i++;
            }
            else if (c == '@') {
                brace = block_start_at(kind, t, i, n, &kind_end, &resume);
                if (brace != FAIL) {
                    at = i;
                    break;
                }
                i = resume > i + 1 ? resume : i + 1;
            }
            else if (escape_at(kind, t, i)) {
                outcome = GIVE_UP;
                goto done;
            }
            else {
                i++;
            }
        }
        if (at == FAIL) {
            outcome = OK;
            goto done;
        }
        if (R(brace) == '(') {
            outcome = GIVE_UP;
            goto done;
        }
        block = block_kind(kind, t, s, at + 1, kind_end, &lowered);
        if (block < 0)
            goto done;
        if (block == 1) {
            block_end = scan_braced(kind, t, brace);
            if (block_end == FAIL) {
                outcome = GIVE_UP;
                goto done;
            }
        }
        else if (block == 2) {
            /* STRING_BODY */
            Py_ssize_t q = scan_name(kind, t, brace + 1), v;
            PyObject *items[4];
            int seen;
            if (!(q < n && R(q) == '=')) {
                outcome = GIVE_UP;
                goto done;
            }
            v = q + 1;
            while (v < n) {
                Py_UCS4 c = R(v);
                if (!HAS(c, C_BRACE)) {
                    v++;
                }
                else if (c == '\\') {
                    v = skip_escape(kind, t, v);
                }
                else if (c == '{') {
                    Py_ssize_t next = scan_braced(kind, t, v);
                    if (next == FAIL)
                        break;
                    v = next;
                }
                else {
                    break;
                }
            }
            if (!(v < n && R(v) == '}')) {
                outcome = GIVE_UP;
                goto done;
            }
            block_end = v + 1;
            items[0] = stripped(kind, t, s, brace + 1, q);
            if (items[0] == NULL)
                goto done;
            seen = add_key(string_keys, items[0]);
            if (seen != 0) {
                Py_DECREF(items[0]);
                if (seen > 0)
                    outcome = GIVE_UP;
                goto done;
            }
            items[1] = stripped(kind, t, s, q + 1, v);
            items[2] = PyLong_FromLongLong(line);
            items[3] = PyLong_FromSsize_t(at);
            if (items[1] == NULL || items[2] == NULL || items[3] == NULL) {
                Py_DECREF(items[0]);
                Py_XDECREF(items[1]);
                Py_XDECREF(items[2]);
                Py_XDECREF(items[3]);
                goto done;
            }
            if (add_made(blocks, make_tuple(s->string_type, items, 4)) < 0)
                goto done;
        }
        else {
            /* ENTRY_KEY, then ENTRY_BODY */
            Py_ssize_t q = scan_name(kind, t, brace + 1);
            PyObject *items[5];
            Py_UCS4 stop;
            int seen, body;
            if (!(q < n && ((stop = R(q)) == ',' || stop == '}'))) {
                Py_DECREF(lowered);
                outcome = GIVE_UP;
                goto done;
            }
            items[0] = lowered;
            items[1] = stripped(kind, t, s, brace + 1, q);
            if (items[1] == NULL) {
                Py_DECREF(lowered);
                goto done;
            }
            seen = add_key(entry_keys, items[1]);
            if (seen != 0) {
                Py_DECREF(lowered);
                Py_DECREF(items[1]);
                if (seen > 0)
                    outcome = GIVE_UP;
                goto done;
            }
            block_end = q + 1;
            if (stop == ',') {
                body = entry_body(kind, t, s, q + 1, &block_end, &items[2]);
                if (body != OK) {
                    Py_DECREF(lowered);
                    Py_DECREF(items[1]);
                    outcome = body;
                    goto done;
                }
                if (items[2] == NULL) {
                    Py_INCREF(Py_None);
                    items[2] = Py_None;
                }
            }
            else {
                items[2] = PyList_New(0);
            }
            items[3] = PyLong_FromLongLong(line);
            items[4] = PyLong_FromSsize_t(at);
            if (items[2] == NULL || items[3] == NULL || items[4] == NULL) {
                Py_DECREF(items[0]);
                Py_DECREF(items[1]);
                Py_XDECREF(items[2]);
                Py_XDECREF(items[3]);
                Py_XDECREF(items[4]);
                goto done;
            }
            if (add_made(blocks, make_tuple(s->entry_type, items, 5)) < 0)
                goto done;
        }
        if (walk_block(kind, t, at, block_end, &line)) {
            outcome = GIVE_UP;
            goto done;
        }
        pos = block_end;
    }
done:
    Py_XDECREF(entry_keys);
    Py_XDECREF(string_keys);
    return outcome;
}

static int
split_any(int kind, const Text *t, State *s, Py_ssize_t start, long long line, PyObject *blocks)
{
    switch (kind) {
    case PyUnicode_1BYTE_KIND:
        return split_kind(PyUnicode_1BYTE_KIND, t, s, start, line, blocks);
    case PyUnicode_2BYTE_KIND:
        return split_kind(PyUnicode_2BYTE_KIND, t, s, start, line, blocks);
    default:
        return split_kind(PyUnicode_4BYTE_KIND, t, s, start, line, blocks);
    }
}

/* An exact int that fits, into *value: 1, or 0 when it is not one (no exception left set). */
static int
exact_int(PyObject *object, long long *value)
{
    int overflow;
    if (!PyLong_CheckExact(object))
        return 0;
    *value = PyLong_AsLongLongAndOverflow(object, &overflow);
    if (overflow || (*value == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* A tuple subclass (the namedtuples) whose instances tp_alloc makes as tuple.__new__ does. */
static int
usable_type(PyObject *type)
{
    return PyType_Check(type) && PyType_IsSubtype((PyTypeObject *)type, &PyTuple_Type)
           && ((PyTypeObject *)type)->tp_alloc != NULL && ((PyTypeObject *)type)->tp_itemsize == sizeof(PyObject *);
}

PyDoc_STRVAR(split_doc,
"split(text, start, end, line, keep_fields, RawEntry, RawString)\n--\n\n"
"bibtex_split.split(text, start, end, line, keep_fields) with the two namedtuple classes given: a\n"
"list of blocks, None (bibtexparser must read the text), or NotImplemented when the arguments are\n"
"outside what this module reproduces (the caller then runs the Python code).");

static PyObject *
fastsplit_split(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *text, *blocks;
    long long start, end, line;
    Py_ssize_t length;
    Text t;
    State s;
    int outcome, k, gc_was_enabled;

    (void)module;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "split() takes 7 arguments");
        return NULL;
    }
    text = args[0];
    if (!PyUnicode_CheckExact(text) || !exact_int(args[1], &start) || !exact_int(args[3], &line)
        || !PyBool_Check(args[4]) || !usable_type(args[5]) || !usable_type(args[6]))
        Py_RETURN_NOTIMPLEMENTED;
    length = PyUnicode_GET_LENGTH(text);
    if (args[2] == Py_None)
        end = length;
    else if (!exact_int(args[2], &end))
        Py_RETURN_NOTIMPLEMENTED;
    if (start < 0 || start > end || end > length)
        Py_RETURN_NOTIMPLEMENTED;
    /* line + the lines of the text must not overflow */
    if (line > LLONG_MAX - length || line < LLONG_MIN + length)
        Py_RETURN_NOTIMPLEMENTED;

    blocks = PyList_New(0);
    if (blocks == NULL)
        return NULL;
    t.data = PyUnicode_DATA(text);
    t.start = (Py_ssize_t)start;
    t.n = (Py_ssize_t)end;
    s.text = text;
    s.entry_type = (PyTypeObject *)args[5];
    s.string_type = (PyTypeObject *)args[6];
    s.keep_fields = args[4] == Py_True;
    s.nkinds = 0;
    s.names = NULL;
    s.names_cap = 0;
    memset(s.slots, 0, sizeof(s.slots));
    s.used_slots = 0;
    /* No collection while the blocks are made: a list of 10,000 entries meant about 150 of them, which
     * cost 0.8 us per entry (the objects made here cannot form cycles). */
    gc_was_enabled = PyGC_Disable();
    outcome = split_any(PyUnicode_KIND(text), &t, &s, (Py_ssize_t)start, line, blocks);
    if (gc_was_enabled)
        PyGC_Enable();
    for (k = 0; k < s.nkinds; k++)
        Py_DECREF(s.kinds[k]);
    for (k = 0; k < NAME_SLOTS; k++)
        Py_XDECREF(s.slots[k].name);
    PyMem_Free(s.names);
    if (outcome == OK)
        return blocks;
    Py_DECREF(blocks);
    if (outcome == GIVE_UP)
        Py_RETURN_NONE;
    return NULL;
}

static PyMethodDef fastsplit_methods[] = {
    {"split", (PyCFunction)(void (*)(void))fastsplit_split, METH_FASTCALL, split_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fastsplit_module = {
    PyModuleDef_HEAD_INIT,
    "bibsmith._fastsplit",
    "bibsmith.readers.bibtex_split.split in C (the Python function is the reference).",
    -1,
    fastsplit_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__fastsplit(void)
{
    init_classes();
    if (str_comment == NULL) {
        str_comment = PyUnicode_InternFromString("comment");
        str_preamble = PyUnicode_InternFromString("preamble");
        str_string = PyUnicode_InternFromString("string");
        str_lower = PyUnicode_InternFromString("lower");
        if (str_comment == NULL || str_preamble == NULL || str_string == NULL || str_lower == NULL) {
            Py_CLEAR(str_comment);
            Py_CLEAR(str_preamble);
            Py_CLEAR(str_string);
            Py_CLEAR(str_lower);
            return NULL;
        }
    }
    return PyModule_Create(&fastsplit_module);
}
