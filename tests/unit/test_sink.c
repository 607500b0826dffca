/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "output/sink.h"
#include "util/error.h"

struct sink_fixture {
    char dir[64];
    char path[96];
    char rotated[96];
};

static int setup(void **state)
{
    struct sink_fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/dnsfirst-test-sink-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/alerts.json", f->dir);
    snprintf(f->rotated, sizeof(f->rotated), "%s/alerts.json.1", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct sink_fixture *f = *state;
    unlink(f->path);
    unlink(f->rotated);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Read the whole file at @p path into @p buf as a string. */
static void read_file(const char *path, char *buf, size_t size)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, size - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

static void test_sink_appends_lines(void **state)
{
    struct sink_fixture *f = *state;
    char text[256];
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("{\"old\":1}\n", fp);
    fclose(fp);

    struct sink *s = NULL;
    assert_int_equal(sink_open(f->path, &s), 0);
    assert_string_equal(sink_path(s), f->path);
    assert_int_equal(sink_write_line(s, "{\"a\":1}", 7), 0);

    /* Each line is on disk once the call returns, before close. */
    read_file(f->path, text, sizeof(text));
    assert_string_equal(text, "{\"old\":1}\n{\"a\":1}\n");

    assert_int_equal(sink_write_line(s, "{\"b\":2}xxx", 7), 0);
    assert_int_equal(sink_sync(s), 0);
    sink_close(s);
    read_file(f->path, text, sizeof(text));
    assert_string_equal(text, "{\"old\":1}\n{\"a\":1}\n{\"b\":2}\n");
}

static void test_sink_reopens_after_rotation(void **state)
{
    struct sink_fixture *f = *state;
    char text[256];
    struct sink *s = NULL;
    assert_int_equal(sink_open(f->path, &s), 0);
    assert_int_equal(sink_write_line(s, "1", 1), 0);

    assert_int_equal(rename(f->path, f->rotated), 0);
    assert_int_equal(sink_reopen(s), 0);
    assert_int_equal(sink_write_line(s, "2", 1), 0);
    sink_close(s);

    read_file(f->rotated, text, sizeof(text));
    assert_string_equal(text, "1\n");
    read_file(f->path, text, sizeof(text));
    assert_string_equal(text, "2\n");
}

static void test_sink_writes_long_line(void **state)
{
    struct sink_fixture *f = *state;
    size_t len = 100000;
    char *line = malloc(len);
    char *text = malloc(len + 16);
    assert_non_null(line);
    assert_non_null(text);
    memset(line, 'x', len);

    struct sink *s = NULL;
    assert_int_equal(sink_open(f->path, &s), 0);
    assert_int_equal(sink_write_line(s, line, len), 0);
    sink_close(s);

    read_file(f->path, text, len + 16);
    assert_int_equal(strlen(text), len + 1);
    assert_int_equal(text[len], '\n');
    free(line);
    free(text);
}

static void test_sink_reports_open_failure(void **state)
{
    (void)state;
    struct sink *s = NULL;
    assert_int_equal(sink_open("/nonexistent/dir/alerts.json", &s), DF_EOUTPUT);
    assert_null(s);
}

static void test_sink_uses_stdout_for_dash(void **state)
{
    (void)state;
    struct sink *s = NULL;
    assert_int_equal(sink_open("", &s), 0);
    assert_string_equal(sink_path(s), "-");
    assert_int_equal(sink_reopen(s), 0);
    sink_close(s);
    sink_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sink_appends_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_reopens_after_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_writes_long_line, setup, teardown),
        cmocka_unit_test(test_sink_reports_open_failure),
        cmocka_unit_test(test_sink_uses_stdout_for_dash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
