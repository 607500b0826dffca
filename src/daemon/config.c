/* SPDX-License-Identifier: MIT */
/*
 * config.c - apply settings from the table: defaults, the config file,
 * single key/value pairs from the command line, checks across settings,
 * and the printed forms for check-config and the README.
 */
#include "daemon/config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* Reason text of one setter, before the key and line are put in front. */
#define CONFIG_REASON_MAX 512

/* Maximum length of a value that config_print() writes: every internal network. */
#define CONFIG_VALUE_TEXT_MAX (CONFIG_INTERNAL_MAX * (ADDR_TEXT_MAX + 2))

/* Line width that config_print() wraps list values at. */
#define CONFIG_PRINT_WIDTH 100

/* Section that may hold the keys, besides the top of the file. */
#define CONFIG_SECTION "dnsfirst"

const struct config_setting *config_setting_find(const char *name)
{
    for (size_t i = 0; i < config_setting_count(); i++) {
        const struct config_setting *s = config_setting_at(i);
        if (strcmp(s->name, name) == 0) {
            return s;
        }
    }
    return NULL;
}

void config_source_begin(struct config *cfg)
{
    cfg->lists_replaced = 0;
    cfg->internal_inherited = cfg->internal_count;
}

void config_init(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));

    /* Settings without a default (internal-add) only ever add to others. */
    for (size_t i = 0; i < config_setting_count(); i++) {
        const struct config_setting *s = config_setting_at(i);
        if (s->default_text[0] == '\0') {
            continue;
        }
        char err[CONFIG_REASON_MAX];
        int ret = s->set(cfg, s, s->default_text, err, sizeof(err));
        assert(ret == 0); /* every default in the table parses, as test_config checks */
        (void)ret;
    }
    config_source_begin(cfg);
}

int config_set(struct config *cfg, const char *key, const char *value, char *err,
               size_t err_size)
{
    const struct config_setting *s = config_setting_find(key);
    if (s == NULL) {
        snprintf(err, err_size, "key '%s': unknown setting", key);
        return DF_ECONFIG;
    }
    if (value == NULL && s->type != CONFIG_TYPE_BOOL) {
        snprintf(err, err_size, "key '%s': missing value (expected %s)", key, s->value_name);
        return DF_ECONFIG;
    }

    char reason[CONFIG_REASON_MAX];
    int ret = s->set(cfg, s, value, reason, sizeof(reason));
    if (ret != 0) {
        snprintf(err, err_size, "key '%s': %s", key, reason);
        return DF_ECONFIG;
    }
    return 0;
}

/* Parsing the config file. */

struct file_parse {
    FILE *fp;
    struct config *cfg;
    unsigned line;          /* physical line the reader returned last */
    unsigned long_line;     /* first line too long for inih, 0 if none */
    size_t line_max;        /* maximum line length that inih accepts, in bytes */
    int read_errno;         /* errno of a failed read, 0 at the end of the file */
    unsigned error_line;    /* line of the first error from the handler */
    char error[CONFIG_REASON_MAX + 64];
    char *buf;              /* getline() buffer */
    size_t buf_size;
};

/*
 * Hand inih one line at a time, counting lines so that the handler can
 * report the line number. Leading blanks are removed, so an indented line is a setting of
 * its own and never an inih continuation line. A setting longer than inih's
 * buffer becomes "!", which inih reports as a syntax error on that line. A
 * long comment is cut short instead.
 */
static char *read_line(char *str, int num, void *stream)
{
    struct file_parse *fp = stream;
    ssize_t n = getline(&fp->buf, &fp->buf_size, fp->fp);
    if (n < 0) {
        fp->read_errno = ferror(fp->fp) ? errno : 0;
        return NULL;
    }
    fp->line++;

    char *start = fp->buf;
    while (*start == ' ' || *start == '\t') {
        start++;
    }
    size_t len = strcspn(start, "\r\n");
    fp->line_max = (size_t)num - 1;
    bool comment = start[0] == '#' || start[0] == ';';
    if (len > fp->line_max && comment) {
        len = fp->line_max; /* the rest of a comment does not matter */
    }
    if (len > fp->line_max) {
        if (fp->long_line == 0) {
            fp->long_line = fp->line;
        }
        snprintf(str, (size_t)num, "!");
        return str;
    }
    memcpy(str, start, len);
    str[len] = '\0';
    return str;
}

static int handle_pair(void *user, const char *section, const char *name, const char *value)
{
    struct file_parse *fp = user;
    if (fp->error_line != 0) {
        return 0; /* the first error is the one reported */
    }
    if (section[0] != '\0' && strcmp(section, CONFIG_SECTION) != 0) {
        fp->error_line = fp->line;
        snprintf(fp->error, sizeof(fp->error),
                 "key '%s': unknown section [%s] (keys go at the top or in [%s])", name,
                 section, CONFIG_SECTION);
        return 0;
    }
    if (config_set(fp->cfg, name, value, fp->error, sizeof(fp->error)) != 0) {
        fp->error_line = fp->line;
        return 0;
    }
    return 1;
}

/* Write the error of a parse that inih reported at @p line. */
static void describe_error(const struct file_parse *fp, const char *path, int line,
                           char *err, size_t err_size)
{
    if (fp->error_line != 0 && (int)fp->error_line == line) {
        snprintf(err, err_size, "%s:%d: %s", path, line, fp->error);
    } else if (fp->long_line != 0 && (int)fp->long_line == line) {
        snprintf(err, err_size, "%s:%d: line too long (at most %zu bytes)", path, line,
                 fp->line_max);
    } else {
        snprintf(err, err_size, "%s:%d: syntax error (expected 'key = value')", path, line);
    }
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t err_size)
{
    FILE *file = fopen(path, "re");
    if (file == NULL) {
        snprintf(err, err_size, "%s: cannot open (%s)", path, strerror(errno));
        return DF_ECONFIG;
    }

    /* Parse into a copy so that a file with an error changes nothing. */
    struct config *work = malloc(sizeof(*work));
    if (work == NULL) {
        fclose(file);
        snprintf(err, err_size, "%s: out of memory", path);
        return DF_ECONFIG;
    }
    *work = *cfg;
    config_source_begin(work);

    struct file_parse fp = { .fp = file, .cfg = work };
    int line = ini_parse_stream(read_line, &fp, handle_pair, &fp);
    free(fp.buf);
    fclose(file);

    int ret = 0;
    if (line != 0) {
        describe_error(&fp, path, line, err, err_size);
        ret = DF_ECONFIG;
    } else if (fp.read_errno != 0) {
        snprintf(err, err_size, "%s: read failed (%s)", path, strerror(fp.read_errno));
        ret = DF_ECONFIG;
    } else {
        *cfg = *work;
        config_source_begin(cfg);
    }
    free(work);
    return ret;
}

/* Checks across settings. */

int config_validate(const struct config *cfg, char *err, size_t err_size)
{
    if (cfg->dns_port_count == 0) {
        snprintf(err, err_size, "key 'dns-port': no DNS port given");
        return DF_ECONFIG;
    }
    if (cfg->internal_count == 0 && !cfg->internal_none) {
        snprintf(err, err_size,
                 "key 'internal': no internal networks (write 'internal = none' to treat "
                 "every address as external)");
        return DF_ECONFIG;
    }
    if (cfg->scope != SCOPE_SERVER && cfg->scope != SCOPE_SITE) {
        snprintf(err, err_size, "key 'scope': invalid value %d", (int)cfg->scope);
        return DF_ECONFIG;
    }
    if (cfg->scope == SCOPE_SITE && cfg->site_name[0] == '\0') {
        snprintf(err, err_size, "key 'site-name': empty, but scope is site");
        return DF_ECONFIG;
    }
    if (cfg->client_prefix_v4 > 32) {
        snprintf(err, err_size, "key 'client-prefix-v4': %u is more than 32",
                 (unsigned)cfg->client_prefix_v4);
        return DF_ECONFIG;
    }
    if (cfg->client_prefix_v6 > 128) {
        snprintf(err, err_size, "key 'client-prefix-v6': %u is more than 128",
                 (unsigned)cfg->client_prefix_v6);
        return DF_ECONFIG;
    }
    if (cfg->state_path[0] == '\0') {
        snprintf(err, err_size, "key 'state': empty path");
        return DF_ECONFIG;
    }
    if (cfg->log_level < 3 || cfg->log_level > 7) {
        snprintf(err, err_size, "key 'log-level': invalid value %d (expected 3 to 7)",
                 cfg->log_level);
        return DF_ECONFIG;
    }
    return 0;
}

/* Printed forms. */

/*
 * Write a list value as "key = a, b, ..." lines of about @p width bytes,
 * repeating the key. Read back as a config file, the first line replaces
 * the list and the others add to it, and no line outgrows inih's buffer.
 */
static void print_list_lines(FILE *out, const char *key, const char *value, size_t width)
{
    const char *p = value;
    while (*p != '\0') {
        size_t line_len = strlen(key) + 3;
        fprintf(out, "%s = ", key);
        bool first = true;
        while (*p != '\0') {
            const char *sep = strstr(p, ", ");
            size_t item_len = sep != NULL ? (size_t)(sep - p) : strlen(p);
            if (!first && line_len + 2 + item_len > width) {
                break;
            }
            fprintf(out, "%s%.*s", first ? "" : ", ", (int)item_len, p);
            line_len += (first ? 0 : 2) + item_len;
            first = false;
            p += item_len;
            if (sep != NULL) {
                p += 2;
            }
        }
        fputc('\n', out);
    }
}

void config_print(const struct config *cfg, FILE *out)
{
    char *value = malloc(CONFIG_VALUE_TEXT_MAX);
    if (value == NULL) {
        return;
    }
    for (size_t i = 0; i < config_setting_count(); i++) {
        const struct config_setting *s = config_setting_at(i);
        if (s->format == NULL) {
            continue;
        }
        s->format(cfg, s, value, CONFIG_VALUE_TEXT_MAX);
        if (value[0] == '\0') {
            /* Not set: as a comment, because "key =" would not load back. */
            fprintf(out, "# %s =\n", s->name);
        } else if (s->repeatable) {
            print_list_lines(out, s->name, value, CONFIG_PRINT_WIDTH);
        } else {
            fprintf(out, "%s = %s\n", s->name, value);
        }
    }
    free(value);
}

/* Write @p text for a Markdown table cell, escaping "|". */
static void print_cell(FILE *out, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '|') {
            fputs("\\|", out);
        } else {
            fputc(*p, out);
        }
    }
}

void config_print_markdown(FILE *out)
{
    fputs("| Key | Flag | Default | Meaning |\n", out);
    fputs("|---|---|---|---|\n", out);
    for (size_t i = 0; i < config_setting_count(); i++) {
        const struct config_setting *s = config_setting_at(i);
        fprintf(out, "| `%s` | `--%s", s->name, s->name);
        if (s->type != CONFIG_TYPE_BOOL) {
            fputc(' ', out);
            print_cell(out, s->value_name);
        }
        fputs("` | ", out);
        if (s->default_text[0] != '\0') {
            fputc('`', out);
            print_cell(out, s->default_text);
            fputc('`', out);
        }
        fputs(" | ", out);
        print_cell(out, s->help);
        if (s->repeatable) {
            fputs(" Repeatable; a value may also list several, separated by commas.", out);
        }
        fputs(" |\n", out);
    }
}

/* Durations. */

struct duration_unit {
    const char *suffix;
    int64_t ms;
};

static const struct duration_unit duration_units[] = {
    { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
};

/* Parse digits and an optional unit into milliseconds; @p bare_ms scales a bare number. */
static int parse_duration(const char *text, int64_t bare_ms, int64_t *out_ms)
{
    const char *p = text;
    int64_t value = 0;
    if (!isdigit((unsigned char)*p)) {
        return DF_EPARSE;
    }
    for (; isdigit((unsigned char)*p); p++) {
        if (value > (INT64_MAX - 9) / 10) {
            return DF_EPARSE;
        }
        value = value * 10 + (*p - '0');
    }

    int64_t scale = bare_ms;
    if (*p != '\0') {
        scale = 0;
        for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
            if (strcmp(p, duration_units[i].suffix) == 0) {
                scale = duration_units[i].ms;
            }
        }
    }

    /* Checked against the cap before multiplying, so nothing overflows. */
    if (scale == 0 || value > CONFIG_DURATION_MAX_S * 1000 / scale) {
        return DF_EPARSE;
    }
    *out_ms = value * scale;
    return 0;
}

int config_parse_duration(const char *text, int64_t *seconds)
{
    int64_t ms = 0;
    if (parse_duration(text, 1000, &ms) != 0 || ms % 1000 != 0) {
        return DF_EPARSE;
    }
    *seconds = ms / 1000;
    return 0;
}

int config_parse_duration_ms(const char *text, int64_t *ms)
{
    return parse_duration(text, 1, ms);
}
