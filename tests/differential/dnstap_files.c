/* SPDX-License-Identifier: MIT */
/*
 * dnstap_files.c - dnsfirst's Frame Streams file reader against libfstrm's.
 *
 * Usage: dnstap_files [FILE...]
 *
 * Every file is read twice: by libfstrm's file reader (fstrm_file_reader_init,
 * fstrm_reader_read; content type protobuf:dnstap.Dnstap, maximum frame
 * 1 MiB like DNSTAP_FRAME_MAX) and by dnstap_file_open()/dnstap_file_next().
 * Both must return the same data frames, byte for byte, and both must end
 * cleanly or both fail. Then copies of the file cut at every frame
 * boundary, one and three bytes either side of it, and at 64 pseudo-random
 * offsets are read the same way: ours must deliver exactly the frames that
 * libfstrm delivers before the cut, and must then report an error (libfstrm
 * reports a clean end there, see compare_file()).
 *
 * Without arguments, the files are written first with libfstrm's file
 * writer: frames of pseudo-random sizes, frames of 1 to 9 bytes, a frame of
 * exactly 1 MiB, a file with a frame one byte over that maximum (not cut,
 * see drop_stale_repeat()) and a file without data frames.
 * Exits 0 when every comparison agrees, 1 otherwise.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fstrm.h>

#include "input/dnstap_file.h"
#include "input/dnstap_frame.h"

#define CUTS_RANDOM 64

/* The data frames of one reading, and how it ended. */
struct reading {
    uint8_t **frames;
    size_t *lens;
    size_t count;
    size_t cap;
    bool clean_end; /* the reader reached STOP without an error */
};

static void reading_free(struct reading *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->frames[i]);
    }
    free(r->frames);
    free(r->lens);
    memset(r, 0, sizeof(*r));
}

static void reading_add(struct reading *r, const uint8_t *data, size_t len)
{
    if (r->count == r->cap) {
        r->cap = r->cap == 0 ? 64 : r->cap * 2;
        r->frames = realloc(r->frames, r->cap * sizeof(*r->frames));
        r->lens = realloc(r->lens, r->cap * sizeof(*r->lens));
        if (r->frames == NULL || r->lens == NULL) {
            abort();
        }
    }
    r->frames[r->count] = malloc(len > 0 ? len : 1);
    if (r->frames[r->count] == NULL) {
        abort();
    }
    memcpy(r->frames[r->count], data, len);
    r->lens[r->count++] = len;
}

static void read_with_fstrm(const char *path, struct reading *out)
{
    memset(out, 0, sizeof(*out));
    struct fstrm_file_options *fopt = fstrm_file_options_init();
    struct fstrm_reader_options *ropt = fstrm_reader_options_init();
    fstrm_file_options_set_file_path(fopt, path);
    fstrm_reader_options_add_content_type(ropt, DNSTAP_CONTENT_TYPE,
                                          strlen(DNSTAP_CONTENT_TYPE));
    fstrm_reader_options_set_max_frame_size(ropt, DNSTAP_FRAME_MAX);
    struct fstrm_reader *reader = fstrm_file_reader_init(fopt, ropt);

    fstrm_res res = fstrm_res_failure;
    if (reader != NULL && fstrm_reader_open(reader) == fstrm_res_success) {
        const uint8_t *data = NULL;
        size_t len = 0;
        while ((res = fstrm_reader_read(reader, &data, &len)) == fstrm_res_success) {
            reading_add(out, data, len);
        }
    }
    out->clean_end = res == fstrm_res_stop;
    fstrm_reader_destroy(&reader);
    fstrm_reader_options_destroy(&ropt);
    fstrm_file_options_destroy(&fopt);
}

static void read_with_dnsfirst(const char *path, struct reading *out)
{
    memset(out, 0, sizeof(*out));
    char err[512];
    struct dnstap_file *f = NULL;
    if (dnstap_file_open(path, &f, err, sizeof(err)) != 0) {
        return;
    }
    const uint8_t *data = NULL;
    size_t len = 0;
    int ret;
    while ((ret = dnstap_file_next(f, &data, &len, err, sizeof(err))) == 1) {
        reading_add(out, data, len);
    }
    out->clean_end = ret == 0;
    dnstap_file_close(f);
}

/*
 * On a frame over the maximum, libfstrm 0.6.1 returns fstrm_res_success with
 * the previous data frame once more, then fails. Drop that repeat.
 */
static void drop_stale_repeat(struct reading *r)
{
    size_t n = r->count;
    if (n >= 2 && !r->clean_end && r->lens[n - 1] == r->lens[n - 2] &&
        memcmp(r->frames[n - 1], r->frames[n - 2], r->lens[n - 1]) == 0) {
        free(r->frames[n - 1]);
        r->count--;
    }
}

/*
 * Compare the two readings of @p path. Returns 0 when they agree. A
 * @p truncated file must fail in dnsfirst's reader, whatever libfstrm says:
 * libfstrm 0.6.1 returns fstrm_res_stop, a clean end, for a file cut
 * inside a frame or right after one, without a STOP frame.
 */
static int compare_file(const char *path, const char *label, bool truncated)
{
    struct reading theirs;
    struct reading ours;
    read_with_fstrm(path, &theirs);
    read_with_dnsfirst(path, &ours);
    if (strstr(path, "/over-maximum.fstrm") != NULL) {
        drop_stale_repeat(&theirs);
    }

    int failed = 0;
    if (theirs.count != ours.count) {
        fprintf(stderr, "%s: libfstrm read %zu data frames, dnsfirst %zu\n", label,
                theirs.count, ours.count);
        failed = 1;
    }
    for (size_t i = 0; i < theirs.count && i < ours.count && !failed; i++) {
        if (theirs.lens[i] != ours.lens[i] ||
            memcmp(theirs.frames[i], ours.frames[i], theirs.lens[i]) != 0) {
            fprintf(stderr, "%s: data frame %zu differs (libfstrm %zu bytes, dnsfirst %zu)\n",
                    label, i, theirs.lens[i], ours.lens[i]);
            failed = 1;
        }
    }
    if (truncated ? ours.clean_end : theirs.clean_end != ours.clean_end) {
        fprintf(stderr, "%s: libfstrm %s, dnsfirst %s\n", label,
                theirs.clean_end ? "ends cleanly" : "fails",
                ours.clean_end ? "ends cleanly" : "fails");
        failed = 1;
    }
    reading_free(&theirs);
    reading_free(&ours);
    return failed;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(size > 0 ? (size_t)size : 1);
    *len = buf != NULL ? fread(buf, 1, (size_t)size, f) : 0;
    fclose(f);
    return buf;
}

static int write_bytes(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        return -errno;
    }
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -EIO;
}

static uint32_t next_random(uint32_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}

/* Compare the readings of @p bytes cut to @p cut bytes. */
static int compare_cut(const char *path, const uint8_t *bytes, size_t cut, const char *tmp)
{
    char label[4200];
    if (write_bytes(tmp, bytes, cut) != 0) {
        fprintf(stderr, "%s: cannot write\n", tmp);
        return 1;
    }
    snprintf(label, sizeof(label), "%s cut to %zu bytes", path, cut);
    return compare_file(tmp, label, true);
}

/* Frame boundaries, found with dnstap_frame_next() on the whole file. */
static size_t frame_ends(const uint8_t *bytes, size_t len, size_t *ends, size_t max)
{
    size_t n = 0;
    size_t off = 0;
    while (n < max) {
        struct dnstap_frame frame;
        size_t used = 0;
        if (dnstap_frame_next(bytes + off, len - off, SIZE_MAX, &frame, &used) != 1) {
            break;
        }
        off += used;
        ends[n++] = off;
    }
    return n;
}

/* Cut the file at frame boundaries, near them and at random offsets. */
static int compare_truncated(const char *path, const char *tmp)
{
    size_t len = 0;
    uint8_t *bytes = slurp(path, &len);
    if (bytes == NULL) {
        fprintf(stderr, "%s: cannot read\n", path);
        return 1;
    }

    static size_t ends[4096];
    size_t count = frame_ends(bytes, len, ends, sizeof(ends) / sizeof(ends[0]));
    static const long deltas[] = { -3, -1, 0, 1, 3 };
    int failed = 0;
    for (size_t i = 0; i < count && !failed; i++) {
        for (size_t d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++) {
            long cut = (long)ends[i] + deltas[d];
            if (cut >= 0 && (size_t)cut < len) {
                failed |= compare_cut(path, bytes, (size_t)cut, tmp);
            }
        }
    }
    uint32_t state = 0x9e3779b9u ^ (uint32_t)len;
    for (int i = 0; i < CUTS_RANDOM && len > 0 && !failed; i++) {
        failed |= compare_cut(path, bytes, next_random(&state) % len, tmp);
    }
    free(bytes);
    return failed;
}

/* Write a file with libfstrm's writer: @p count frames of the sizes @p sizes. */
static int write_fstrm(const char *path, const size_t *sizes, size_t count, uint32_t seed)
{
    struct fstrm_file_options *fopt = fstrm_file_options_init();
    struct fstrm_writer_options *wopt = fstrm_writer_options_init();
    fstrm_file_options_set_file_path(fopt, path);
    fstrm_writer_options_add_content_type(wopt, DNSTAP_CONTENT_TYPE,
                                          strlen(DNSTAP_CONTENT_TYPE));
    struct fstrm_writer *w = fstrm_file_writer_init(fopt, wopt);
    int ret = w != NULL && fstrm_writer_open(w) == fstrm_res_success ? 0 : -EIO;

    uint32_t state = seed;
    for (size_t i = 0; i < count && ret == 0; i++) {
        uint8_t *frame = malloc(sizes[i]);
        if (frame == NULL) {
            ret = -ENOMEM;
            break;
        }
        for (size_t j = 0; j < sizes[i]; j++) {
            frame[j] = (uint8_t)next_random(&state);
        }
        if (fstrm_writer_write(w, frame, sizes[i]) != fstrm_res_success) {
            ret = -EIO;
        }
        free(frame);
    }
    if (w != NULL && fstrm_writer_destroy(&w) != fstrm_res_success) {
        ret = -EIO;
    }
    fstrm_writer_options_destroy(&wopt);
    fstrm_file_options_destroy(&fopt);
    return ret;
}

/* Write the generated files into @p dir; returns how many, or 0 on failure. */
static size_t generate_files(const char *dir, char paths[][4200], size_t max)
{
    size_t sizes[120];
    uint32_t state = 12345;
    size_t n = 0;

    /* Pseudo-random sizes of 1 byte to 70 000 bytes. */
    for (size_t i = 0; i < 120; i++) {
        sizes[i] = 1 + next_random(&state) % (i % 10 == 0 ? 70000 : 600);
    }
    snprintf(paths[n], sizeof(paths[n]), "%s/random.fstrm", dir);
    if (n >= max || write_fstrm(paths[n++], sizes, 120, 1) != 0) {
        return 0;
    }

    /* Frames shorter than a control frame header. */
    for (size_t i = 0; i < 9; i++) {
        sizes[i] = i + 1;
    }
    snprintf(paths[n], sizeof(paths[n]), "%s/tiny.fstrm", dir);
    if (n >= max || write_fstrm(paths[n++], sizes, 9, 2) != 0) {
        return 0;
    }

    /* The largest frame both readers accept, then one byte over it. */
    size_t largest[] = { 10, DNSTAP_FRAME_MAX, 10 };
    snprintf(paths[n], sizeof(paths[n]), "%s/largest.fstrm", dir);
    if (n >= max || write_fstrm(paths[n++], largest, 3, 3) != 0) {
        return 0;
    }
    size_t over[] = { 10, DNSTAP_FRAME_MAX + 1, 10 };
    snprintf(paths[n], sizeof(paths[n]), "%s/over-maximum.fstrm", dir);
    if (n >= max || write_fstrm(paths[n++], over, 3, 4) != 0) {
        return 0;
    }

    /* No data frames at all. */
    snprintf(paths[n], sizeof(paths[n]), "%s/empty.fstrm", dir);
    if (n >= max || write_fstrm(paths[n++], sizes, 0, 5) != 0) {
        return 0;
    }
    return n;
}

static int compare_path(const char *path, const char *tmp)
{
    int failed = compare_file(path, path, false);
    if (!failed && strstr(path, "/over-maximum.fstrm") == NULL) {
        failed = compare_truncated(path, tmp);
    }
    printf("%s %s\n", failed ? "DIFFERS" : "same", path);
    return failed;
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/dnstap-files-diff.XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s/cut.fstrm", dir);

    int failed = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            failed |= compare_path(argv[i], tmp);
        }
    } else {
        static char paths[8][4200];
        size_t n = generate_files(dir, paths, 8);
        if (n == 0) {
            fprintf(stderr, "cannot write the test files with libfstrm\n");
            failed = 1;
        }
        for (size_t i = 0; i < n; i++) {
            failed |= compare_path(paths[i], tmp);
            unlink(paths[i]);
        }
    }
    unlink(tmp);
    rmdir(dir);
    return failed;
}
