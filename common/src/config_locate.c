/* Finding lines in the hall file with libyaml's event parser.
 *
 * The walk follows one key path down the event stream and skips every
 * sibling node whole, so it never builds a document tree: the file is read
 * once per lookup, which is only done when an error is being reported. */
#include "config_locate.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

/* Deeper than any hall file goes (windows[0].services[1] is four steps);
 * a longer path is treated as unparseable and located at the document. */
#define LOCATE_STEPS_MAX 16

typedef struct {
    const char *key; /* NULL when this step is a sequence index */
    size_t key_len;
    unsigned long index;
} step_t;

/* Splits "services[2].prefix" into steps. Returns how many, or -1 if the
 * path is malformed or too deep. */
static int parse_path(const char *path, step_t *steps, int max)
{
    int count = 0;
    const char *p = path;

    while (*p != '\0') {
        if (count == max)
            return -1;
        if (*p == '[') {
            char *end;
            unsigned long index = strtoul(p + 1, &end, 10);
            if (end == p + 1 || *end != ']')
                return -1;
            steps[count++] = (step_t){.key = NULL, .index = index};
            p = end + 1;
        } else {
            if (count > 0) {
                if (*p != '.')
                    return -1;
                p++;
            }
            size_t len = strcspn(p, ".[");
            if (len == 0)
                return -1;
            steps[count++] = (step_t){.key = p, .key_len = len};
            p += len;
        }
    }
    return count;
}

/* Reads one event and keeps only what the walk needs, so no event is held
 * across calls and none can leak. */
static bool next_event(yaml_parser_t *parser, yaml_event_type_t *type, unsigned *line)
{
    yaml_event_t event;
    if (!yaml_parser_parse(parser, &event))
        return false;
    *type = event.type;
    *line = (unsigned)event.start_mark.line + 1;
    yaml_event_delete(&event);
    return true;
}

/* Consumes the rest of a node whose first event was of type FIRST. */
static bool skip_node(yaml_parser_t *parser, yaml_event_type_t first)
{
    if (first != YAML_MAPPING_START_EVENT && first != YAML_SEQUENCE_START_EVENT)
        return true;

    unsigned depth = 1;
    while (depth > 0) {
        yaml_event_type_t type;
        unsigned line;
        if (!next_event(parser, &type, &line))
            return false;
        if (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT)
            depth++;
        else if (type == YAML_MAPPING_END_EVENT || type == YAML_SEQUENCE_END_EVENT)
            depth--;
    }
    return true;
}

/* With the parser just inside a mapping, finds the OCCURRENCE-th entry
 * whose key is STEP's, sets *LINE to the key's line and *NODE to the type
 * of the value's first event, which has been consumed. On a later
 * occurrence that is not there, *LINE is left at the last one seen. */
static bool find_key(yaml_parser_t *parser, const step_t *step, unsigned occurrence, unsigned *line,
                     yaml_event_type_t *node)
{
    unsigned seen = 0;

    for (;;) {
        yaml_event_t key;
        if (!yaml_parser_parse(parser, &key))
            return false;
        if (key.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&key);
            return false;
        }
        bool match = key.type == YAML_SCALAR_EVENT && key.data.scalar.length == step->key_len &&
                     memcmp(key.data.scalar.value, step->key, step->key_len) == 0;
        unsigned key_line = (unsigned)key.start_mark.line + 1;
        yaml_event_type_t key_type = key.type;
        yaml_event_delete(&key);

        /* A complex key (a mapping used as a key) never matches, but its
         * events must still be consumed. */
        if (!skip_node(parser, key_type))
            return false;

        yaml_event_type_t value_type;
        unsigned value_line;
        if (!next_event(parser, &value_type, &value_line))
            return false;
        if (match) {
            *line = key_line;
            if (++seen == occurrence) {
                *node = value_type;
                return true;
            }
        }
        if (!skip_node(parser, value_type))
            return false;
    }
}

/* With the parser just inside a sequence, finds entry INDEX, sets *LINE to
 * where it starts and *NODE to the type of its first event (consumed). */
static bool find_entry(yaml_parser_t *parser, unsigned long index, unsigned *line,
                       yaml_event_type_t *node)
{
    for (unsigned long i = 0;; i++) {
        yaml_event_type_t type;
        unsigned entry_line;
        if (!next_event(parser, &type, &entry_line))
            return false;
        if (type == YAML_SEQUENCE_END_EVENT)
            return false;
        if (i == index) {
            *line = entry_line;
            *node = type;
            return true;
        }
        if (!skip_node(parser, type))
            return false;
    }
}

static unsigned locate(const char *file, const char *key_path, unsigned occurrence)
{
    step_t steps[LOCATE_STEPS_MAX];
    int count = parse_path(key_path ? key_path : "", steps, LOCATE_STEPS_MAX);
    if (count < 0)
        count = 0;

    FILE *input = fopen(file, "rb");
    if (!input)
        return 0;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fclose(input);
        return 0;
    }
    yaml_parser_set_input_file(&parser, input);

    /* The walk starts at the root node; an empty file has none, and the
     * end of its stream is as good a place to point at as any. */
    unsigned best = 0;
    yaml_event_type_t node;
    do {
        if (!next_event(&parser, &node, &best))
            goto done;
    } while (node == YAML_STREAM_START_EVENT || node == YAML_DOCUMENT_START_EVENT);

    for (int i = 0; i < count; i++) {
        bool last = i == count - 1;
        bool found;
        if (steps[i].key)
            found = node == YAML_MAPPING_START_EVENT &&
                    find_key(&parser, &steps[i], last ? occurrence : 1, &best, &node);
        else
            found = node == YAML_SEQUENCE_START_EVENT &&
                    find_entry(&parser, steps[i].index, &best, &node);
        if (!found)
            break;
    }

done:
    yaml_parser_delete(&parser);
    fclose(input);
    return best;
}

unsigned hb_config_locate(const char *file, const char *key_path)
{
    return locate(file, key_path, 1);
}

unsigned hb_config_locate_repeat(const char *file, const char *key_path)
{
    return locate(file, key_path, 2);
}

/* libyaml gives reader errors (bad UTF-8, a NUL byte) as a byte offset,
 * not a mark, so the line is counted here. */
static unsigned line_of_offset(FILE *input, size_t offset)
{
    unsigned line = 1;
    char chunk[4096];

    rewind(input);
    while (offset > 0) {
        size_t want = offset < sizeof chunk ? offset : sizeof chunk;
        size_t got = fread(chunk, 1, want, input);
        if (got == 0)
            break;
        for (size_t i = 0; i < got; i++)
            line += chunk[i] == '\n';
        offset -= got;
    }
    return line;
}

int hb_config_check_yaml(const char *file, unsigned *line, char *problem, size_t problem_size)
{
    FILE *input = fopen(file, "rb");
    if (!input)
        return -1;

    /* fopen succeeds on a directory on Linux; the read would fail later
     * with a less helpful message. */
    struct stat st;
    if (fstat(fileno(input), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(input);
        errno = EISDIR;
        return -1;
    }

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fclose(input);
        errno = ENOMEM;
        return -1;
    }
    yaml_parser_set_input_file(&parser, input);

    int rc = 0;
    for (;;) {
        yaml_event_t event;
        if (!yaml_parser_parse(&parser, &event)) {
            if (ferror(input) || parser.error == YAML_MEMORY_ERROR) {
                if (parser.error == YAML_MEMORY_ERROR)
                    errno = ENOMEM;
                else if (errno == 0)
                    errno = EIO;
                rc = -1;
                break;
            }
            rc = -2;
            if (parser.error == YAML_READER_ERROR)
                *line = line_of_offset(input, parser.problem_offset);
            else
                *line = (unsigned)parser.problem_mark.line + 1;
            const char *what = parser.problem ? parser.problem : "unknown problem";
            if (parser.context)
                snprintf(problem, problem_size, "%s (%s)", what, parser.context);
            else
                snprintf(problem, problem_size, "%s", what);
            break;
        }
        bool end = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
        if (end)
            break;
    }

    yaml_parser_delete(&parser);
    int saved = errno;
    fclose(input);
    errno = saved;
    return rc;
}
