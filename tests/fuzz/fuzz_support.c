// SPDX-License-Identifier: Apache-2.0
// Support shared by every fuzz target: the log layer's hooks (output is dropped: the targets run
// millions of inputs, and messages are what the code under test is expected to produce), and the
// seed-writing mode of LLVMFuzzerInitialize (fuzz_common.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cv/log.h>

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

void console_write(const char *s, size_t n)
{
    if (getenv("CV_FUZZ_ECHO")) {
        fwrite(s, 1, n, stderr);
    }
}

uint64_t time_now_us(void)
{
    static uint64_t t;
    return t += 1000;
}

static const char *seed_dir;

void fuzz_write_seed(const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    seed_dir = getenv("CV_FUZZ_WRITE_SEEDS");
    if (seed_dir && *seed_dir) {
        fuzz_make_seeds();
        exit(0);
    }
    return 0;
}

void console_write_line(const char *s, size_t n)
{
    console_write(s, n);
}
