/* SPDX-License-Identifier: MIT */
#include "output/sink.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/alert.h"
#include "util/error.h"

/*
 * Stream buffer of a file sink. glibc copies a line that fits in the empty
 * buffer and passes it to write() in one call at the flush, as strace shows
 * on glibc 2.36. Lines up to this size therefore reach the file with one
 * write(), which O_APPEND keeps whole. Longer lines may take several calls.
 */
#define SINK_BUFFER_SIZE 65536

struct sink {
    pthread_mutex_t lock; /* the store's writer thread writes, a SIGHUP handler reopens */
    FILE *fp;
    bool is_stdout;
    char *line;       /* JSON plus newline, so one fwrite() carries both */
    size_t line_size;
    char *iobuf;      /* SINK_BUFFER_SIZE bytes, for file sinks only */
    char path[];
};

static int open_file(struct sink *s, FILE **out)
{
    FILE *fp = fopen(s->path, "ae");
    if (fp == NULL) {
        return DF_EOUTPUT;
    }
    if (setvbuf(fp, s->iobuf, _IOFBF, SINK_BUFFER_SIZE) != 0) {
        int saved = errno;
        fclose(fp);
        errno = saved;
        return DF_EOUTPUT;
    }
    *out = fp;
    return 0;
}

int sink_open(const char *path, struct sink **out)
{
    bool is_stdout = path[0] == '\0' || strcmp(path, "-") == 0;
    const char *name = is_stdout ? "-" : path;
    size_t name_len = strlen(name);

    struct sink *s = calloc(1, sizeof(*s) + name_len + 1);
    if (s == NULL) {
        return -ENOMEM;
    }
    memcpy(s->path, name, name_len + 1);
    s->is_stdout = is_stdout;
    pthread_mutex_init(&s->lock, NULL);
    if (is_stdout) {
        s->fp = stdout;
        *out = s;
        return 0;
    }

    s->iobuf = malloc(SINK_BUFFER_SIZE);
    if (s->iobuf == NULL) {
        free(s);
        return -ENOMEM;
    }
    int ret = open_file(s, &s->fp);
    if (ret != 0) {
        int saved = errno;
        free(s->iobuf);
        free(s);
        errno = saved;
        return ret;
    }
    *out = s;
    return 0;
}

/* Grow the line buffer to hold @p need bytes. */
static int reserve_line(struct sink *s, size_t need)
{
    if (need <= s->line_size) {
        return 0;
    }
    size_t size = need > ALERT_JSON_MAX + 1 ? need : ALERT_JSON_MAX + 1;
    char *line = realloc(s->line, size);
    if (line == NULL) {
        return -ENOMEM;
    }
    s->line = line;
    s->line_size = size;
    return 0;
}

static int write_line_locked(struct sink *s, const char *json, size_t len)
{
    int ret = reserve_line(s, len + 1);
    if (ret != 0) {
        return ret;
    }
    memcpy(s->line, json, len);
    s->line[len] = '\n';

    /* A failed stream stays failed until cleared, so the next line may retry. */
    if (fwrite(s->line, 1, len + 1, s->fp) != len + 1 || fflush(s->fp) != 0) {
        int saved = errno;
        clearerr(s->fp);
        errno = saved;
        return DF_EOUTPUT;
    }
    return 0;
}

int sink_write_line(struct sink *s, const char *json, size_t len)
{
    pthread_mutex_lock(&s->lock);
    int ret = write_line_locked(s, json, len);
    int saved = errno;
    pthread_mutex_unlock(&s->lock);
    errno = saved;
    return ret;
}

static int sync_locked(struct sink *s)
{
    if (fflush(s->fp) != 0) {
        return DF_EOUTPUT;
    }

    /* Pipes and terminals reject fsync() with EINVAL; they have nothing to sync. */
    if (fsync(fileno(s->fp)) != 0) {
        if (s->is_stdout && (errno == EINVAL || errno == EROFS)) {
            return 0;
        }
        return DF_EOUTPUT;
    }
    return 0;
}

int sink_sync(struct sink *s)
{
    pthread_mutex_lock(&s->lock);
    int ret = sync_locked(s);
    int saved = errno;
    pthread_mutex_unlock(&s->lock);
    errno = saved;
    return ret;
}

static int reopen_locked(struct sink *s)
{
    /* The old stream keeps the shared buffer until it is closed. */
    fflush(s->fp);
    char *iobuf = malloc(SINK_BUFFER_SIZE);
    if (iobuf == NULL) {
        return -ENOMEM;
    }
    char *old_iobuf = s->iobuf;
    s->iobuf = iobuf;

    FILE *fp = NULL;
    int ret = open_file(s, &fp);
    if (ret != 0) {
        int saved = errno;
        s->iobuf = old_iobuf;
        free(iobuf);
        errno = saved;
        return ret;
    }
    fclose(s->fp);
    free(old_iobuf);
    s->fp = fp;
    return 0;
}

int sink_reopen(struct sink *s)
{
    if (s->is_stdout) {
        return 0;
    }
    pthread_mutex_lock(&s->lock);
    int ret = reopen_locked(s);
    int saved = errno;
    pthread_mutex_unlock(&s->lock);
    errno = saved;
    return ret;
}

void sink_close(struct sink *s)
{
    if (s == NULL) {
        return;
    }
    if (s->is_stdout) {
        fflush(s->fp);
    } else {
        fclose(s->fp);
    }
    free(s->iobuf);
    free(s->line);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

const char *sink_path(const struct sink *s)
{
    return s->path;
}
