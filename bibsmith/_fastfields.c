/* The field values of one BibTeX entry, evaluated: the C twin of bibsmith.readers.bibtex._entry_fields
 * for entries that give no message.
 *
 * Why by hand in C (issue 8): evaluating the fields of an entry in Python (a call of `evaluate`, a
 * lower-cased name, a stripped value and a dict entry per field) took 13 us of the 83 us that reading
 * one entry of the benchmark corpus cost. This does the same in one call per entry.
 *
 * evaluate(fields, strings, months) -> dict | None
 *   fields:  [(name as written, raw value as written)], as bibsmith.readers.bibtex_split gives them
 *   strings: the @string values defined so far, by lower-case name
 *   months:  {"jan": "1", ...}, the month macros BibTeX knows
 * The dict is exactly the `fields` that _entry_fields builds, for every entry where it reports
 * nothing. None says "evaluate this entry in Python": for any value outside the plain forms below
 * (`#` concatenation, an undefined macro, an unclosed group, non-ASCII in a name or a macro, leading
 * white space, ...) and for a repeated field name. Python then reads the entry, and words the messages.
 *
 * A raw value is one piece, read as bibsmith.readers.bibtex.evaluate reads its first piece:
 *   {...}   up to the brace that closes the first one, every brace counted (escaped ones too);
 *   "..."   up to the first " outside braces, braces counted;
 *   digits  a run of ASCII digits;
 *   a word  of ASCII characters other than white space and #{}",= : a macro (strings, then months).
 * After the piece, anything that is not white space and `#` is ignored, as evaluate() ignores it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int
is_ascii_space(Py_UCS4 c)
{
    return c == ' ' || (c >= 9 && c <= 13) || (c >= 28 && c <= 31);
}

/* What str.strip() gives. */
static PyObject *
strip(PyObject *text, Py_ssize_t start, Py_ssize_t end)
{
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    while (start < end && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, start)))
        start++;
    while (end > start && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, end - 1)))
        end--;
    return PyUnicode_Substring(text, start, end);
}

/* 1 when what follows `pos` (after white space) starts with '#': a concatenation, left to Python. */
static int
continues(int kind, const void *data, Py_ssize_t pos, Py_ssize_t n)
{
    while (pos < n && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, pos)))
        pos++;
    return pos < n && PyUnicode_READ(kind, data, pos) == '#';
}

/* The value of one raw field (a new reference), or NULL without an exception: Python must evaluate it. */
static PyObject *
value_of(PyObject *raw, PyObject *strings, PyObject *months)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(raw);
    int kind = PyUnicode_KIND(raw);
    const void *data = PyUnicode_DATA(raw);
    if (n == 0)
        return NULL;
    Py_UCS4 first = PyUnicode_READ(kind, data, 0);
    Py_ssize_t pos, end;
    if (first == '{') {
        Py_ssize_t depth = 0;
        for (pos = 0; pos < n; pos++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, pos);
            if (c == '{')
                depth++;
            else if (c == '}' && --depth == 0)
                break;
        }
        if (pos == n || continues(kind, data, pos + 1, n))
            return NULL;
        return strip(raw, 1, pos);
    }
    if (first == '"') {
        Py_ssize_t depth = 0;
        for (pos = 1; pos < n; pos++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, pos);
            if (c == '{')
                depth++;
            else if (c == '}')
                depth--;
            else if (c == '"' && depth == 0)
                break;
        }
        if (pos == n || continues(kind, data, pos + 1, n))
            return NULL;
        return strip(raw, 1, pos);
    }
    if (first >= '0' && first <= '9') {
        for (end = 1; end < n; end++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, end);
            if (c >= 128)
                return NULL;  /* maybe a digit of another script, which \d would take too */
            if (c < '0' || c > '9')
                break;
        }
        if (continues(kind, data, end, n))
            return NULL;
        return PyUnicode_Substring(raw, 0, end);  /* digits: nothing to strip */
    }
    /* A macro name: ASCII only (its lower case and its end are then plain to see). */
    char word[64];
    for (end = 0; end < n; end++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, end);
        if (c >= 128)
            return NULL;
        if (is_ascii_space(c) || c == '#' || c == '{' || c == '}' || c == '"' || c == ',' || c == '=')
            break;
        if (end >= (Py_ssize_t)sizeof(word) - 1)
            return NULL;
        word[end] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    if (end == 0 || continues(kind, data, end, n))
        return NULL;
    PyObject *name = PyUnicode_FromStringAndSize(word, end);
    if (name == NULL)
        return NULL;
    PyObject *value = PyDict_GetItemWithError(strings, name);
    if (value == NULL && !PyErr_Occurred())
        value = PyDict_GetItemWithError(months, name);
    Py_DECREF(name);
    if (value == NULL || !PyUnicode_Check(value))
        return NULL;  /* undefined: Python warns about it */
    return strip(value, 0, PyUnicode_GET_LENGTH(value));
}

/* The lower-case name of an ASCII field name (a new reference), or NULL: Python lower-cases the rest. */
static PyObject *
lower_name(PyObject *name)
{
    if (!PyUnicode_IS_ASCII(name))
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(name);
    const Py_UCS1 *chars = PyUnicode_1BYTE_DATA(name);
    Py_ssize_t i;
    for (i = 0; i < n && !(chars[i] >= 'A' && chars[i] <= 'Z'); i++)
        ;
    if (i == n) {
        Py_INCREF(name);
        return name;
    }
    PyObject *lower = PyUnicode_New(n, 127);
    if (lower == NULL)
        return NULL;
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(lower);
    for (i = 0; i < n; i++)
        out[i] = chars[i] >= 'A' && chars[i] <= 'Z' ? chars[i] + 32 : chars[i];
    return lower;
}

static PyObject *
evaluate(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyList_Check(args[0]) || !PyDict_Check(args[1]) || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "evaluate(fields: list, strings: dict, months: dict)");
        return NULL;
    }
    PyObject *fields = args[0], *strings = args[1], *months = args[2];
    PyObject *result = PyDict_New();
    if (result == NULL)
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(fields);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *field = PyList_GET_ITEM(fields, i);
        if (!PyTuple_Check(field) || PyTuple_GET_SIZE(field) != 2
            || !PyUnicode_Check(PyTuple_GET_ITEM(field, 0)) || !PyUnicode_Check(PyTuple_GET_ITEM(field, 1)))
            goto python;
        PyObject *name = lower_name(PyTuple_GET_ITEM(field, 0));
        if (name == NULL)
            goto python;
        int seen = PyDict_Contains(result, name);
        PyObject *value = seen == 0 ? value_of(PyTuple_GET_ITEM(field, 1), strings, months) : NULL;
        if (value == NULL) {
            Py_DECREF(name);
            goto python;
        }
        int failed = PyDict_SetItem(result, name, value);
        Py_DECREF(name);
        Py_DECREF(value);
        if (failed)
            goto python;
    }
    return result;
python:
    Py_DECREF(result);
    if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_MemoryError))
        PyErr_Clear();  /* e.g. an unhashable key: Python's own reading says what is wrong */
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"evaluate", (PyCFunction)(void (*)(void))evaluate, METH_FASTCALL,
     "evaluate(fields, strings, months) -> the entry's evaluated fields by lower-case name, or None "
     "when Python must read the entry."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_fastfields", "BibTeX field values evaluated in C (see bibsmith.readers.bibtex).", -1, methods,
};

PyMODINIT_FUNC
PyInit__fastfields(void)
{
    return PyModule_Create(&module_def);
}
