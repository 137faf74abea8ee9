// SPDX-License-Identifier: Apache-2.0
// The input log (colo/colo_input.c) on its own: records kept in order and whole, a commit
// dropping exactly the frames its replica holds, replay handing exactly the later ones, and
// every bound (frame sizes, a full log, epochs going back) refusing without losing what is kept.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <colo/input.h>

static uint8_t mem[1024];
static struct colo_input in;

struct seen {
    unsigned n;
    size_t len[64];
    uint8_t first[64];
};

static void collect(void *ctx, const uint8_t *frame, size_t len)
{
    struct seen *s = ctx;
    assert_true(s->n < 64);
    for (size_t i = 1; i < len; i++) {
        assert_int_equal(frame[i], frame[0]); /* whole: every byte of a frame is its tag */
    }
    s->len[s->n] = len;
    s->first[s->n++] = frame[0];
}

static void add(uint64_t epoch, uint8_t tag, size_t len, enum colo_input_res want)
{
    uint8_t f[COLO_INPUT_MAX + 1];
    memset(f, tag, sizeof(f));
    assert_int_equal(colo_input_add(&in, epoch, f, len), want);
}

static void test_prune_and_replay(void **state)
{
    (void)state;
    colo_input_init(&in, mem, sizeof(mem));
    add(3, 1, 60, COLO_INPUT_OK);
    add(3, 2, 61, COLO_INPUT_OK);
    add(4, 3, 62, COLO_INPUT_OK);
    add(5, 4, 14, COLO_INPUT_OK);
    colo_input_prune(&in, 2); /* nothing of 2 or before */
    assert_int_equal(in.count, 4);
    colo_input_prune(&in, 3);
    assert_int_equal(in.count, 2);
    assert_int_equal(in.st.pruned, 2);
    struct seen s = {0};
    assert_int_equal(colo_input_replay(&in, 4, collect, &s), 1); /* the replica holds 4 */
    assert_int_equal(s.n, 1);
    assert_int_equal(s.first[0], 4);
    assert_int_equal(s.len[0], 14);
    assert_int_equal(in.count, 0);
    assert_int_equal(in.used, 0);
    assert_int_equal(in.st.replayed, 1);
}

static void test_replay_in_order(void **state)
{
    (void)state;
    colo_input_init(&in, mem, sizeof(mem));
    for (uint8_t i = 0; i < 12; i++) {
        add(7 + i / 4, i, 20 + i, COLO_INPUT_OK);
    }
    struct seen s = {0};
    assert_int_equal(colo_input_replay(&in, 6, collect, &s), 12);
    for (uint8_t i = 0; i < 12; i++) {
        assert_int_equal(s.first[i], i);
        assert_int_equal(s.len[i], 20 + i);
    }
}

static void test_bounds(void **state)
{
    (void)state;
    colo_input_init(&in, mem, sizeof(mem));
    add(2, 1, COLO_INPUT_MIN - 1, COLO_INPUT_BAD);
    add(2, 1, COLO_INPUT_MAX + 1, COLO_INPUT_BAD);
    add(2, 1, 500, COLO_INPUT_OK);
    add(1, 2, 60, COLO_INPUT_BAD); /* older than the last: a primary's tags never go back */
    add(2, 3, 500, COLO_INPUT_OK);
    add(3, 4, 500, COLO_INPUT_FULL); /* 1020 of 1024 bytes used */
    add(3, 5, 4, COLO_INPUT_BAD);
    assert_int_equal(in.used, 2 * COLO_INPUT_REC(500));
    assert_int_equal(in.st.dropped, 1);
    assert_int_equal(in.st.logged, 2);
    colo_input_prune(&in, 2); /* the commit makes room */
    add(3, 6, 1000, COLO_INPUT_OK);
    struct seen s = {0};
    assert_int_equal(colo_input_replay(&in, 2, collect, &s), 1);
    assert_int_equal(s.first[0], 6);
    /* A log without memory keeps nothing and says so. */
    colo_input_init(&in, NULL, 4096);
    add(1, 1, 60, COLO_INPUT_FULL);
    assert_int_equal(colo_input_replay(&in, 0, collect, &s), 0);
}

/* Local frames: kept after the replica, delivered, but not twice when the primary forwarded
 * the very same frame. */
static void test_local_frames(void **state)
{
    (void)state;
    colo_input_init(&in, mem, sizeof(mem));
    uint8_t f[60];
    memset(f, 7, sizeof(f));
    assert_int_equal(colo_input_add(&in, 5, f, sizeof(f)), COLO_INPUT_OK);
    /* The replica is at 3 and the primary already tagged 5: the local frame goes after. */
    assert_int_equal(colo_input_add_local(&in, 3, f, sizeof(f)), COLO_INPUT_OK);
    assert_int_equal(in.last_epoch, 5);
    memset(f, 8, sizeof(f));
    assert_int_equal(colo_input_add_local(&in, 3, f, sizeof(f)), COLO_INPUT_OK);
    assert_int_equal(in.st.local, 2);
    struct seen s = {0};
    assert_int_equal(colo_input_replay(&in, 3, collect, &s), 2);
    assert_int_equal(s.first[0], 7);
    assert_int_equal(s.first[1], 8);
    assert_int_equal(s.len[1], 60); /* the mark is not part of the length */
    assert_int_equal(in.st.dups, 1);
    /* A local frame alone, replica at 9: it is epoch 10's and a commit of 10 drops it. */
    assert_int_equal(colo_input_add_local(&in, 9, f, sizeof(f)), COLO_INPUT_OK);
    assert_int_equal(in.last_epoch, 10);
    colo_input_prune(&in, 10);
    assert_int_equal(in.count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prune_and_replay),
        cmocka_unit_test(test_replay_in_order),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_local_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
