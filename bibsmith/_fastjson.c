/* bibsmith._fastjson: the text of one CSL-JSON record, exactly as
 * bibsmith.writers.csljson._record_text_python makes it (that function stays as
 * the reference and the fallback; tests/test_fastjson.py holds the two to the
 * same text, or the same exception, on real and on arbitrary records).
 *
 * Why by hand in C: writing CSL-JSON is one pass over every record on one
 * core, and record_text was most of it: about 7 us a record here (9.5 us on
 * the benchmark machine): a key-order lookup by a tuple of the keys, then per
 * key a cached prefix and a trip into the json module's C encoder (each value
 * its own string, a list of them for containers), then a join. This module
 * writes the whole record into one buffer in one call. Measured on the
 * records of .bench/corpus-10000.bib, best of 5 runs, CPU time per record:
 *     Python record_text                        7.0 us
 *     _fastjson.record_text, first version      1.6 us (keys tuple -> dict cache)
 *     _fastjson.record_text, this version       1.3 us (own key-set table, 8-byte scans)
 *     csljson.record_text (wrapper, switch)     1.4 us
 *     write_stream, 10k records                 79 ms -> 17 ms
 * (json's own encoder on a whole record, for scale: 5.1 us.)
 *
 * What it writes itself: exact str (escaped like json's c_encode_basestring
 * with ensure_ascii=False: '"', '\\', \b \f \n \r \t as two characters, the
 * rest below U+0020 as \u00xx, everything else as is), exact int, exact
 * finite float (repr; NaN and Infinity raise ValueError, as json does with
 * allow_nan=False), True/False/None, exact dicts with exact-str keys, lists
 * and tuples. Any other value (subclasses, dict
 * keys that are not str, other types, nesting deeper than FJ_MAX_DEPTH) is
 * handed as a whole top-level value to the Python `compact`, and a record
 * that is not an exact dict with exact-str keys to the Python `fallback`, so
 * that the text, or the exception, is the Python one.
 *
 * The order of a key set comes from the Python `order` function once, and is
 * kept here with the keys' prefixes ("    \"key\": ") in output order and
 * where each value sits in the record (at most FJ_CACHE key sets).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define FJ_MAX_DEPTH 100    /* deeper values are left to Python (which raises RecursionError in time) */
#define FJ_CACHE 4096       /* key sets kept; the cache is emptied when full */
#define FJ_SLOTS 8192       /* a power of two, at least twice FJ_CACHE */
#define FJ_STACK_CHARS 2048 /* a record this long (in UCS4 characters) needs no heap buffer */
#define FJ_STACK_KEYS 64    /* a record with this many keys needs no heap arrays */

typedef struct {
    PyObject *order;    /* tuple of keys -> the same keys in output order */
    PyObject *compact;  /* value -> its compact JSON text */
    PyObject *fallback; /* record -> its text */
    struct Entry **slots; /* FJ_SLOTS: the key sets seen, by their keys' hash (open addressing) */
    Py_ssize_t used;
} fj_state;

/* ---- A growing buffer of 1-, 2- or 4-byte characters --------------------------------------- */

typedef struct {
    char *data;
    Py_ssize_t len;  /* characters written */
    Py_ssize_t cap;  /* characters that fit */
    int kind;        /* bytes a character: 1, 2 or 4 */
    Py_UCS4 maxchar; /* the largest PyUnicode_MAX_CHAR_VALUE of what is written: 127, 255, 0xffff, 0x10ffff */
    char *heap;      /* data, when it is on the heap */
    Py_UCS4 stack[FJ_STACK_CHARS];
} Writer;

static void
w_init(Writer *w)
{
    w->data = (char *)w->stack;
    w->len = 0;
    w->cap = FJ_STACK_CHARS * 4; /* as 1-byte characters */
    w->kind = 1;
    w->maxchar = 127;
    w->heap = NULL;
}

static void
w_free(Writer *w)
{
    if (w->heap != NULL) {
        PyMem_Free(w->heap);
        w->heap = NULL;
    }
}

static Py_UCS4
w_read(const Writer *w, Py_ssize_t i)
{
    return PyUnicode_READ(w->kind, w->data, i);
}

/* Room for `extra` more characters of up to `kind` bytes each. */
static int
w_grow(Writer *w, Py_ssize_t extra, int kind)
{
    int newkind = kind > w->kind ? kind : w->kind;
    if (extra > PY_SSIZE_T_MAX / 8 - w->len) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t need = w->len + extra;
    if (w->heap == NULL && need <= (Py_ssize_t)(sizeof(w->stack) / (size_t)newkind)) {
        /* still fits on the stack: widen in place, from the end (a character is read before the
         * wider one written over it, and never after) */
        for (Py_ssize_t i = w->len - 1; newkind != w->kind && i >= 0; i--) {
            PyUnicode_WRITE(newkind, w->data, i, w_read(w, i));
        }
        w->kind = newkind;
        w->cap = (Py_ssize_t)(sizeof(w->stack) / (size_t)newkind);
        return 0;
    }
    Py_ssize_t newcap = need + need / 2 + 64; /* grow by half again, as lists do */
    char *data = PyMem_Malloc((size_t)newcap * (size_t)newkind);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (newkind == w->kind) {
        memcpy(data, w->data, (size_t)w->len * (size_t)w->kind);
    }
    else {
        for (Py_ssize_t i = 0; i < w->len; i++) {
            PyUnicode_WRITE(newkind, data, i, w_read(w, i));
        }
    }
    w_free(w);
    w->heap = data;
    w->data = data;
    w->cap = newcap;
    w->kind = newkind;
    return 0;
}

static inline int
w_reserve(Writer *w, Py_ssize_t extra, int kind)
{
    if (kind <= w->kind && extra <= w->cap - w->len) {
        return 0;
    }
    return w_grow(w, extra, kind);
}

/* ASCII bytes as they are. */
static int
w_ascii(Writer *w, const char *text, Py_ssize_t n)
{
    if (w_reserve(w, n, 1) < 0) {
        return -1;
    }
    switch (w->kind) {
    case 1:
        memcpy(w->data + w->len, text, (size_t)n);
        break;
    case 2: {
        Py_UCS2 *out = (Py_UCS2 *)w->data + w->len;
        for (Py_ssize_t i = 0; i < n; i++) {
            out[i] = (unsigned char)text[i];
        }
        break;
    }
    default: {
        Py_UCS4 *out = (Py_UCS4 *)w->data + w->len;
        for (Py_ssize_t i = 0; i < n; i++) {
            out[i] = (unsigned char)text[i];
        }
    }
    }
    w->len += n;
    return 0;
}

#define W_LITERAL(w, text) w_ascii((w), (text), (Py_ssize_t)(sizeof(text) - 1))

/* A str as it is (no escaping): texts from repr and from the Python fallbacks. */
static int
w_raw(Writer *w, PyObject *s)
{
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(s) < 0) {
        return -1;
    }
#endif
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *src = PyUnicode_DATA(s);
    Py_UCS4 maxchar = PyUnicode_MAX_CHAR_VALUE(s);
    if (w_reserve(w, n, kind) < 0) {
        return -1;
    }
    if (maxchar > w->maxchar) {
        w->maxchar = maxchar;
    }
    if (kind == w->kind) {
        memcpy(w->data + w->len * w->kind, src, (size_t)n * (size_t)kind);
    }
    else {
        for (Py_ssize_t i = 0; i < n; i++) {
            PyUnicode_WRITE(w->kind, w->data, w->len + i, PyUnicode_READ(kind, src, i));
        }
    }
    w->len += n;
    return 0;
}

/* A str as a JSON string, like json.encoder.c_encode_basestring: '"' and '\\' and \b \f \n \r \t
 * as two-character escapes, the other characters below U+0020 as \u00xx, everything else as is. */
static const char HEX[] = "0123456789abcdef";

/* Whether any of 8 one-byte characters needs an escape: one below 0x20, a '"' or a '\\'. Each test
 * ("a byte below n", "a zero byte") is exact about whether some byte matches, which is all that is
 * asked here (the classic bit tricks; a borrow only crosses from a byte that matches). */
static inline int
needs_escape_8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
    uint64_t control = (x - ones * 0x20) & ~x;
    quote = (quote - ones) & ~quote;
    backslash = (backslash - ones) & ~backslash;
    return ((control | quote | backslash) & highs) != 0;
}

/* Blocks of 8 characters that need no escape, copied in one go (1-byte sources only). */
#define CLEAN_BLOCKS(ST, DT)                                              \
    if (sizeof(ST) == 1) {                                                \
        while (i + 8 <= n) {                                              \
            uint64_t x;                                                   \
            memcpy(&x, src + i, 8);                                       \
            if (needs_escape_8(x)) {                                      \
                break;                                                    \
            }                                                             \
            if (sizeof(DT) == 1) {                                        \
                memcpy(out, src + i, 8);                                  \
            }                                                             \
            else {                                                        \
                for (int k = 0; k < 8; k++) {                             \
                    out[k] = (DT)src[i + k];                              \
                }                                                         \
            }                                                             \
            out += 8;                                                     \
            i += 8;                                                       \
        }                                                                 \
    }

#define DEFINE_ESCAPE(NAME, ST, DT)                                                             \
    static int NAME(Writer *w, const ST *src, Py_ssize_t n)                                     \
    {                                                                                           \
        DT *out = (DT *)w->data + w->len;                                                       \
        DT *end = (DT *)w->data + w->cap;                                                       \
        Py_ssize_t i = 0;                                                                       \
        *out++ = '"';                                                                           \
        while (i < n) {                                                                         \
            CLEAN_BLOCKS(ST, DT)                                                                \
            Py_ssize_t stop = (sizeof(ST) == 1 && n - i > 8) ? i + 8 : n;                       \
            for (; i < stop; i++) {                                                             \
                Py_UCS4 c = src[i];                                                             \
                if (c >= 0x20 && c != '"' && c != '\\') {                                      \
                    *out++ = (DT)c;                                                             \
                    continue;                                                                   \
                }                                                                               \
                /* room for this escape (at most 6), the rest (1 each) and the closing quote */ \
                if (end - out < 6 + (n - i - 1) + 1) {                                          \
                    w->len = out - (DT *)w->data;                                               \
                    if (w_grow(w, 6 + (n - i - 1) + 1, w->kind) < 0) {                          \
                        return -1;                                                              \
                    }                                                                           \
                    out = (DT *)w->data + w->len;                                               \
                    end = (DT *)w->data + w->cap;                                               \
                }                                                                               \
                *out++ = '\\';                                                                  \
                switch (c) {                                                                    \
                case '"': *out++ = '"'; break;                                                  \
                case '\\': *out++ = '\\'; break;                                                \
                case '\b': *out++ = 'b'; break;                                                 \
                case '\f': *out++ = 'f'; break;                                                 \
                case '\n': *out++ = 'n'; break;                                                 \
                case '\r': *out++ = 'r'; break;                                                 \
                case '\t': *out++ = 't'; break;                                                 \
                default:                                                                        \
                    *out++ = 'u';                                                               \
                    *out++ = '0';                                                               \
                    *out++ = '0';                                                               \
                    *out++ = (DT)HEX[(c >> 4) & 0xf];                                           \
                    *out++ = (DT)HEX[c & 0xf];                                                  \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
        *out++ = '"';                                                                           \
        w->len = out - (DT *)w->data;                                                           \
        return 0;                                                                               \
    }

DEFINE_ESCAPE(escape_1_1, Py_UCS1, Py_UCS1)
DEFINE_ESCAPE(escape_1_2, Py_UCS1, Py_UCS2)
DEFINE_ESCAPE(escape_1_4, Py_UCS1, Py_UCS4)
DEFINE_ESCAPE(escape_2_2, Py_UCS2, Py_UCS2)
DEFINE_ESCAPE(escape_2_4, Py_UCS2, Py_UCS4)
DEFINE_ESCAPE(escape_4_4, Py_UCS4, Py_UCS4)

static int
w_string(Writer *w, PyObject *s)
{
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(s) < 0) {
        return -1;
    }
#endif
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *src = PyUnicode_DATA(s);
    Py_UCS4 maxchar = PyUnicode_MAX_CHAR_VALUE(s);
    if (n > PY_SSIZE_T_MAX / 4 - 2 || w_reserve(w, n + 2, kind) < 0) {
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        return -1;
    }
    if (maxchar > w->maxchar) {
        w->maxchar = maxchar; /* escapes are ASCII: the text is no wider than its source */
    }
    switch (w->kind * 4 + kind) {
    case 1 * 4 + 1: return escape_1_1(w, (const Py_UCS1 *)src, n);
    case 2 * 4 + 1: return escape_1_2(w, (const Py_UCS1 *)src, n);
    case 4 * 4 + 1: return escape_1_4(w, (const Py_UCS1 *)src, n);
    case 2 * 4 + 2: return escape_2_2(w, (const Py_UCS2 *)src, n);
    case 4 * 4 + 2: return escape_2_4(w, (const Py_UCS2 *)src, n);
    default: return escape_4_4(w, (const Py_UCS4 *)src, n);
    }
}

/* The str the writer holds (canonical: the kind that its widest character needs). */
static PyObject *
w_finish(Writer *w)
{
    PyObject *result = PyUnicode_New(w->len, w->maxchar);
    if (result == NULL) {
        return NULL;
    }
    int kind = PyUnicode_KIND(result);
    void *data = PyUnicode_DATA(result);
    if (kind == w->kind) {
        memcpy(data, w->data, (size_t)w->len * (size_t)kind);
    }
    else { /* the buffer was widened for a value that was then written by Python instead */
        for (Py_ssize_t i = 0; i < w->len; i++) {
            PyUnicode_WRITE(kind, data, i, w_read(w, i));
        }
    }
    return result;
}

/* ---- Values ---------------------------------------------------------------------------------- */

#define FJ_OK 0
#define FJ_ERROR (-1)
#define FJ_PYTHON 1 /* not for this module: let Python write the whole value */

static int
w_int(Writer *w, PyObject *value)
{
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (n == -1 && PyErr_Occurred()) {
        return FJ_ERROR;
    }
    if (!overflow) {
        char buf[24];
        char *p = buf + sizeof(buf);
        unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (n < 0) {
            *--p = '-';
        }
        return w_ascii(w, p, buf + sizeof(buf) - p);
    }
    /* what the json encoder does (ValueError past sys.get_int_max_str_digits(), as there) */
    PyObject *text = PyLong_Type.tp_repr(value);
    if (text == NULL) {
        return FJ_ERROR;
    }
    int rv = w_raw(w, text);
    Py_DECREF(text);
    return rv;
}

static int
w_float(Writer *w, PyObject *value)
{
    double x = PyFloat_AS_DOUBLE(value);
    if (!isfinite(x)) {
        /* not JSON: the ValueError of json's encoder with allow_nan=False, as the Python twin raises */
        PyErr_SetString(PyExc_ValueError, "Out of range float values are not JSON compliant");
        return FJ_ERROR;
    }
    PyObject *text = PyFloat_Type.tp_repr(value);
    if (text == NULL) {
        return FJ_ERROR;
    }
    int rv = w_raw(w, text);
    Py_DECREF(text);
    return rv;
}

static int w_value(Writer *w, PyObject *value, int depth);

static int
w_items(Writer *w, PyObject *const *items, Py_ssize_t n, int depth)
{
    if (W_LITERAL(w, "[") < 0) {
        return FJ_ERROR;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i && W_LITERAL(w, ", ") < 0) {
            return FJ_ERROR;
        }
        int rv = w_value(w, items[i], depth);
        if (rv != FJ_OK) {
            return rv;
        }
    }
    return W_LITERAL(w, "]");
}

static int
w_dict(Writer *w, PyObject *dict, int depth)
{
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    int first = 1;
    if (W_LITERAL(w, "{") < 0) {
        return FJ_ERROR;
    }
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key)) {
            return FJ_PYTHON; /* int, float, bool and None keys are converted there, others raise */
        }
        if (!first && W_LITERAL(w, ", ") < 0) {
            return FJ_ERROR;
        }
        first = 0;
        if (w_string(w, key) < 0 || W_LITERAL(w, ": ") < 0) {
            return FJ_ERROR;
        }
        int rv = w_value(w, value, depth);
        if (rv != FJ_OK) {
            return rv;
        }
    }
    return W_LITERAL(w, "}");
}

/* No Python code runs in here (no calls, no allocation of objects the garbage collector tracks), so
 * the borrowed references of lists and dicts stay good while they are walked. */
static int
w_value(Writer *w, PyObject *value, int depth)
{
    PyTypeObject *type = Py_TYPE(value);
    int rv;
    if (type == &PyUnicode_Type) {
        return w_string(w, value);
    }
    if (type == &PyDict_Type || type == &PyList_Type || type == &PyTuple_Type) {
        if (depth >= FJ_MAX_DEPTH) {
            return FJ_PYTHON;
        }
        /* as the json encoder does for each list and dict */
        if (Py_EnterRecursiveCall(" while encoding a JSON object")) {
            return FJ_ERROR;
        }
        if (type == &PyDict_Type) {
            rv = PyDict_GET_SIZE(value) == 0 ? W_LITERAL(w, "{}") : w_dict(w, value, depth + 1);
        }
        else if (type == &PyList_Type) {
            rv = PyList_GET_SIZE(value) == 0 ? W_LITERAL(w, "[]")
                                             : w_items(w, PySequence_Fast_ITEMS(value), PyList_GET_SIZE(value), depth + 1);
        }
        else {
            rv = PyTuple_GET_SIZE(value) == 0 ? W_LITERAL(w, "[]")
                                              : w_items(w, PySequence_Fast_ITEMS(value), PyTuple_GET_SIZE(value), depth + 1);
        }
        Py_LeaveRecursiveCall();
        return rv;
    }
    if (type == &PyLong_Type) {
        return w_int(w, value);
    }
    if (value == Py_None) {
        return W_LITERAL(w, "null");
    }
    if (value == Py_True) {
        return W_LITERAL(w, "true");
    }
    if (value == Py_False) {
        return W_LITERAL(w, "false");
    }
    if (type == &PyFloat_Type) {
        return w_float(w, value);
    }
    return FJ_PYTHON;
}

/* ---- The key order of a key set --------------------------------------------------------------- */

/* One key set: its keys in record order, and for each place in the output the key's prefix
 * ("    \"key\": ") and where its value is in the record; one block of memory. Counted references:
 * the table holds one, and so does a record_text that is writing with it (Python code that it
 * calls could empty the table). */
typedef struct Entry {
    Py_ssize_t refs;
    Py_hash_t hash;
    Py_ssize_t n;
    PyObject **keys;     /* n strong references, in record order */
    PyObject **prefixes; /* n strong references (NULL until made), in output order */
    Py_ssize_t *at;      /* n: place in the output -> place in the record */
} Entry;

static Entry *
entry_new(PyObject *const *keys, Py_ssize_t n, Py_hash_t hash)
{
    if (n > (PY_SSIZE_T_MAX - (Py_ssize_t)sizeof(Entry)) / 64) {
        PyErr_NoMemory();
        return NULL;
    }
    Entry *e = PyMem_Calloc(1, sizeof(Entry) + (size_t)n * (2 * sizeof(PyObject *) + sizeof(Py_ssize_t)));
    if (e == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    e->refs = 1;
    e->hash = hash;
    e->n = n;
    e->keys = (PyObject **)(e + 1);
    e->prefixes = e->keys + n;
    e->at = (Py_ssize_t *)(e->prefixes + n);
    for (Py_ssize_t i = 0; i < n; i++) {
        e->keys[i] = Py_NewRef(keys[i]);
    }
    return e;
}

static void
entry_release(Entry *e)
{
    if (--e->refs > 0) {
        return;
    }
    for (Py_ssize_t i = 0; i < e->n; i++) {
        Py_DECREF(e->keys[i]);
        Py_XDECREF(e->prefixes[i]);
    }
    PyMem_Free(e);
}

/* Equal exact strs (canonical: equal text has equal kind). */
static inline int
same_str(PyObject *a, PyObject *b)
{
    if (a == b) {
        return 1;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    int kind = PyUnicode_KIND(a);
    return n == PyUnicode_GET_LENGTH(b) && kind == (int)PyUnicode_KIND(b)
           && memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)n * (size_t)kind) == 0;
}

/* Of exact strs, in record order. No Python code runs (a str's hash is its own). */
static Py_hash_t
keys_hash(PyObject *const *keys, Py_ssize_t n)
{
    Py_uhash_t h = 0x345678UL + (Py_uhash_t)n;
    for (Py_ssize_t i = 0; i < n; i++) {
        h = (h ^ (Py_uhash_t)PyObject_Hash(keys[i])) * 1000003UL;
    }
    return (Py_hash_t)h;
}

static Entry *
table_find(fj_state *st, Py_hash_t hash, PyObject *const *keys, Py_ssize_t n)
{
    size_t i = (size_t)hash & (FJ_SLOTS - 1);
    Entry *e;
    while ((e = st->slots[i]) != NULL) { /* never more than half full: an empty slot ends this */
        if (e->hash == hash && e->n == n) {
            Py_ssize_t k = 0;
            while (k < n && same_str(e->keys[k], keys[k])) {
                k++;
            }
            if (k == n) {
                return e;
            }
        }
        i = (i + 1) & (FJ_SLOTS - 1);
    }
    return NULL;
}

static void
table_clear(fj_state *st)
{
    if (st->slots == NULL) {
        return;
    }
    for (size_t i = 0; i < FJ_SLOTS; i++) {
        Entry *e = st->slots[i];
        st->slots[i] = NULL;
        if (e != NULL) {
            entry_release(e);
        }
    }
    st->used = 0;
}

/* Takes the reference to e. */
static void
table_add(fj_state *st, Entry *e)
{
    if (st->used >= FJ_CACHE) {
        table_clear(st);
    }
    size_t i = (size_t)e->hash & (FJ_SLOTS - 1);
    while (st->slots[i] != NULL) {
        i = (i + 1) & (FJ_SLOTS - 1);
    }
    st->slots[i] = e;
    st->used++;
}

/* "    \"key\": " */
static PyObject *
key_prefix(PyObject *key)
{
    Writer *w = PyMem_Malloc(sizeof(Writer));
    if (w == NULL) {
        return PyErr_NoMemory();
    }
    w_init(w);
    PyObject *result = NULL;
    if (W_LITERAL(w, "    ") == 0 && w_string(w, key) == 0 && W_LITERAL(w, ": ") == 0) {
        result = w_finish(w);
    }
    w_free(w);
    PyMem_Free(w);
    return result;
}

/* The entry of a key set (exact strs, record order) from the Python order function; NULL with an
 * exception, or NULL and *unusable when that function gives anything but these keys in some order. */
static Entry *
make_entry(fj_state *st, PyObject *const *keys, Py_ssize_t n, Py_hash_t hash, int *unusable)
{
    Entry *e = entry_new(keys, n, hash); /* owns the keys before any Python code runs */
    PyObject *tuple = NULL, *ordered = NULL, *order = NULL;
    if (e == NULL) {
        return NULL;
    }
    tuple = PyTuple_New(n);
    if (tuple == NULL) {
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyTuple_SET_ITEM(tuple, i, Py_NewRef(e->keys[i]));
    }
    order = Py_NewRef(st->order);
    ordered = PyObject_CallOneArg(order, tuple);
    if (ordered == NULL) {
        goto fail;
    }
    if (!PyTuple_CheckExact(ordered) || PyTuple_GET_SIZE(ordered) != n) {
        goto unusable;
    }
    for (Py_ssize_t j = 0; j < n; j++) {
        PyObject *key = PyTuple_GET_ITEM(ordered, j);
        Py_ssize_t i = 0;
        while (i < n && e->keys[i] != key) {
            i++;
        }
        if (i == n && PyUnicode_CheckExact(key)) { /* an equal key of an earlier record (lru_cache) */
            i = 0;
            while (i < n && !same_str(e->keys[i], key)) {
                i++;
            }
        }
        if (i == n || e->prefixes[i] == (PyObject *)e) { /* not one of the keys, or one twice */
            goto unusable;
        }
        e->prefixes[i] = (PyObject *)e; /* a mark, replaced below */
        e->at[j] = i;
    }
    for (Py_ssize_t j = 0; j < n; j++) {
        e->prefixes[j] = NULL;
    }
    for (Py_ssize_t j = 0; j < n; j++) {
        e->prefixes[j] = key_prefix(e->keys[e->at[j]]);
        if (e->prefixes[j] == NULL) {
            goto fail;
        }
    }
    Py_DECREF(ordered);
    Py_DECREF(order);
    Py_DECREF(tuple);
    return e;
unusable:
    *unusable = 1;
fail:
    for (Py_ssize_t j = 0; j < n; j++) {
        if (e->prefixes[j] == (PyObject *)e) {
            e->prefixes[j] = NULL;
        }
    }
    entry_release(e);
    Py_XDECREF(ordered);
    Py_XDECREF(order);
    Py_XDECREF(tuple);
    return NULL;
}

/* ---- record_text ------------------------------------------------------------------------------- */

static PyObject *
python_text(fj_state *st, PyObject *record, PyObject *tail)
{
    PyObject *fallback = Py_NewRef(st->fallback);
    PyObject *text = PyObject_CallOneArg(fallback, record);
    Py_DECREF(fallback);
    if (text == NULL || tail == NULL) {
        return text;
    }
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "the fallback did not return a str");
        Py_DECREF(text);
        return NULL;
    }
    PyObject *result = PyUnicode_Concat(text, tail);
    Py_DECREF(text);
    return result;
}

/* A value as Python writes it. */
static int
w_python(fj_state *st, Writer *w, PyObject *value)
{
    PyObject *compact = Py_NewRef(st->compact);
    PyObject *text = PyObject_CallOneArg(compact, value);
    Py_DECREF(compact);
    if (text == NULL) {
        return FJ_ERROR;
    }
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "compact did not return a str");
        Py_DECREF(text);
        return FJ_ERROR;
    }
    int rv = w_raw(w, text);
    Py_DECREF(text);
    return rv;
}

/* The record's text into w, or FJ_PYTHON when the whole record is for Python. keys and values have
 * room for n (the record's size). */
static int
write_record(fj_state *st, Writer *w, PyObject *record, PyObject **keys, PyObject **values, Py_ssize_t n)
{
    Entry *e;
    int tries = 0, rv = FJ_ERROR;

again:;
    Py_ssize_t pos = 0, got = 0;
    PyObject *key, *value;
    while (PyDict_Next(record, &pos, &key, &value)) {
        if (got >= n || !PyUnicode_CheckExact(key)) {
            return FJ_PYTHON;
        }
        keys[got] = key;
        values[got++] = value;
    }
    if (got != n) {
        return FJ_PYTHON;
    }
    Py_hash_t hash = keys_hash(keys, n);
    e = table_find(st, hash, keys, n); /* no Python code runs from the reading of the record to here */
    if (e == NULL) {
        int unusable = 0;
        if (tries++) {
            return FJ_PYTHON;
        }
        e = make_entry(st, keys, n, hash, &unusable);
        if (e == NULL) {
            return unusable ? FJ_PYTHON : FJ_ERROR;
        }
        table_add(st, e);
        goto again; /* Python code ran: the record is read again */
    }
    e->refs++;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_INCREF(values[i]); /* the Python fallback for a value runs Python code */
    }

    if (W_LITERAL(w, "  {\n") < 0) {
        goto done;
    }
    for (Py_ssize_t j = 0; j < n; j++) {
        PyObject *value = values[e->at[j]];
        if (j && W_LITERAL(w, ",\n") < 0) {
            goto done;
        }
        if (w_raw(w, e->prefixes[j]) < 0) {
            goto done;
        }
        Py_ssize_t start = w->len;
        Py_UCS4 maxchar = w->maxchar;
        int r = w_value(w, value, 0);
        if (r == FJ_PYTHON) {
            w->len = start; /* what was written of it is dropped */
            w->maxchar = maxchar;
            r = w_python(st, w, value);
        }
        if (r == FJ_ERROR) {
            goto done;
        }
    }
    if (W_LITERAL(w, "\n  }") < 0) {
        goto done;
    }
    rv = FJ_OK;
done:
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_DECREF(values[i]);
    }
    entry_release(e);
    return rv;
}

static PyObject *
record_text(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    fj_state *st = PyModule_GetState(module);
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "record_text(record, tail='') takes 1 or 2 arguments");
        return NULL;
    }
    PyObject *record = args[0];
    PyObject *tail = nargs > 1 ? args[1] : NULL;
    if (tail != NULL && !PyUnicode_CheckExact(tail)) {
        PyErr_SetString(PyExc_TypeError, "record_text: tail must be a str");
        return NULL;
    }
    if (st->order == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "bibsmith._fastjson.configure() was not called");
        return NULL;
    }
    if (!PyDict_CheckExact(record)) {
        return python_text(st, record, tail);
    }

    Py_ssize_t n = PyDict_GET_SIZE(record);
    PyObject *small[2 * FJ_STACK_KEYS];
    PyObject **keys = small;
    if (n > FJ_STACK_KEYS) {
        if ((size_t)n > PY_SSIZE_T_MAX / (2 * sizeof(PyObject *))) {
            return PyErr_NoMemory();
        }
        keys = PyMem_Malloc(2 * (size_t)n * sizeof(PyObject *));
        if (keys == NULL) {
            return PyErr_NoMemory();
        }
    }
    Writer writer; /* about 8 kB on the stack */
    w_init(&writer);
    PyObject *result = NULL;
    int rv = write_record(st, &writer, record, keys, keys + n, n);
    if (rv == FJ_OK && (tail == NULL || w_raw(&writer, tail) == 0)) {
        result = w_finish(&writer);
    }
    w_free(&writer);
    if (keys != small) {
        PyMem_Free(keys);
    }
    if (rv == FJ_PYTHON) {
        return python_text(st, record, tail);
    }
    return result;
}

static PyObject *
configure(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    fj_state *st = PyModule_GetState(module);
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "configure(order, compact, fallback) takes 3 arguments");
        return NULL;
    }
    for (int i = 0; i < 3; i++) {
        if (!PyCallable_Check(args[i])) {
            PyErr_SetString(PyExc_TypeError, "configure: every argument must be callable");
            return NULL;
        }
    }
    Py_XSETREF(st->order, Py_NewRef(args[0]));
    Py_XSETREF(st->compact, Py_NewRef(args[1]));
    Py_XSETREF(st->fallback, Py_NewRef(args[2]));
    table_clear(st);
    Py_RETURN_NONE;
}

static PyObject *
cache_size(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    fj_state *st = PyModule_GetState(module);
    return PyLong_FromSsize_t(st->used);
}

/* ---- The module -------------------------------------------------------------------------------- */

static PyMethodDef fj_methods[] = {
    {"record_text", (PyCFunction)(void (*)(void))record_text, METH_FASTCALL,
     "record_text(record, tail='') -> the record's CSL-JSON text (as csljson._record_text_python) + tail"},
    {"configure", (PyCFunction)(void (*)(void))configure, METH_FASTCALL,
     "configure(order, compact, fallback): the Python key order, value encoder and record writer"},
    {"cache_size", cache_size, METH_NOARGS, "cache_size() -> key sets whose order is kept"},
    {NULL, NULL, 0, NULL},
};

static int
fj_exec(PyObject *module)
{
    fj_state *st = PyModule_GetState(module);
    st->slots = PyMem_Calloc(FJ_SLOTS, sizeof(Entry *));
    if (st->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    st->used = 0;
    return 0;
}

static int
fj_traverse(PyObject *module, visitproc visit, void *arg)
{
    fj_state *st = PyModule_GetState(module);
    if (st != NULL) {
        Py_VISIT(st->order);
        Py_VISIT(st->compact);
        Py_VISIT(st->fallback); /* the table holds strs only */
    }
    return 0;
}

static int
fj_clear(PyObject *module)
{
    fj_state *st = PyModule_GetState(module);
    if (st != NULL) {
        Py_CLEAR(st->order);
        Py_CLEAR(st->compact);
        Py_CLEAR(st->fallback);
        table_clear(st);
    }
    return 0;
}

static void
fj_free(void *module)
{
    fj_state *st = PyModule_GetState((PyObject *)module);
    fj_clear((PyObject *)module);
    if (st != NULL) {
        PyMem_Free(st->slots);
        st->slots = NULL;
    }
}

static PyModuleDef_Slot fj_slots[] = {
    {Py_mod_exec, fj_exec},
    {0, NULL},
};

static struct PyModuleDef fj_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "bibsmith._fastjson",
    .m_doc = "The text of a CSL-JSON record, as bibsmith.writers.csljson writes it, in C.",
    .m_size = sizeof(fj_state),
    .m_methods = fj_methods,
    .m_slots = fj_slots,
    .m_traverse = fj_traverse,
    .m_clear = fj_clear,
    .m_free = fj_free,
};

PyMODINIT_FUNC
PyInit__fastjson(void)
{
    return PyModuleDef_Init(&fj_module);
}
