// SPDX-License-Identifier: Apache-2.0
// The urgent transmit path of board NICs (kernel/net/netdev.c): a frame from the urgent
// interrupt goes out at once when the driver's transmit side is idle, waits in its one slot
// (a newer frame replacing it) while main-context transmit work is under way, and leaves as
// soon as that work ends; a receive poll, which runs the engine for as long as it likes, does
// not hold it back. The "interrupt" is simulated by calling netdev_tx_urgent() from inside the
// fake driver's callbacks, where a real one could preempt it.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cv/net.h>

static char sent[16][8];
static unsigned nsent, flushes;
static const char *urgent_inside; /* sent from inside the next tx()/poll(), if set */
static bool refuse;
static bool bracket_in_poll; /* the fake driver's poll does transmit work of its own */
static struct netdev dev;

static uint8_t frame[ETH_MIN_FRAME + 8];

static const uint8_t *mk(const char *tag)
{
    memset(frame, 0, sizeof(frame));
    strncpy((char *)frame + ETH_MIN_FRAME, tag, 7);
    return frame;
}

static void interrupt(void)
{
    if (urgent_inside) {
        const char *u = urgent_inside;
        urgent_inside = NULL;
        assert_true(netdev_tx_urgent(&dev, mk(u), sizeof(frame)));
    }
}

static bool f_tx(struct netdev *d, const uint8_t *f, size_t len)
{
    (void)d;
    assert_int_equal(len, sizeof(frame));
    char tag[8];
    memcpy(tag, f + ETH_MIN_FRAME, 8);
    interrupt(); /* preempted in the middle of the ring update */
    if (refuse) {
        return false;
    }
    assert_true(nsent < 16);
    memcpy(sent[nsent++], tag, 8);
    return true;
}

static void f_flush(struct netdev *d)
{
    (void)d;
    flushes++;
}

static void f_poll(struct netdev *d)
{
    interrupt(); /* while receiving: the engine runs here */
    if (bracket_in_poll) {
        netdev_tx_begin(d);
        urgent_inside = "U-reap";
        interrupt();
        netdev_tx_end(d);
    }
}

static bool f_link(struct netdev *d)
{
    (void)d;
    return true;
}

static const struct netdev_ops ops = {
    .tx = f_tx, .poll = f_poll, .link_up = f_link, .tx_flush = f_flush};

static int setup(void **state)
{
    (void)state;
    memset(&dev, 0, sizeof(dev));
    dev.name = "net0";
    dev.ops = &ops;
    nsent = flushes = 0;
    urgent_inside = NULL;
    refuse = bracket_in_poll = false;
    return 0;
}

static void test_idle_sends_at_once(void **state)
{
    (void)state;
    assert_true(netdev_tx_urgent(&dev, mk("U1"), sizeof(frame)));
    assert_int_equal(nsent, 1);
    assert_string_equal(sent[0], "U1");
    assert_int_equal(flushes, 1); /* handed to the device now, not at the next poll */
    assert_int_equal(dev.urgent_tx, 1);
    assert_int_equal(dev.urgent_deferred, 0);
    assert_int_equal(dev.busy, 0);
}

static void test_waits_for_transmit_in_progress(void **state)
{
    (void)state;
    urgent_inside = "U1";
    assert_true(netdev_tx(&dev, mk("M1"), sizeof(frame)));
    /* The ring was being changed: the urgent frame went right after, never inside. */
    assert_int_equal(nsent, 2);
    assert_string_equal(sent[0], "M1");
    assert_string_equal(sent[1], "U1");
    assert_int_equal(dev.urgent_deferred, 1);
    assert_int_equal(dev.urgent_tx, 1);
    assert_int_equal(flushes, 1);
    assert_false(dev.urgent_pending);
    assert_int_equal(dev.busy, 0);
}

static void test_newer_replaces_parked(void **state)
{
    (void)state;
    netdev_tx_begin(&dev);
    assert_true(netdev_tx_urgent(&dev, mk("U1"), sizeof(frame)));
    assert_true(netdev_tx_urgent(&dev, mk("U2"), sizeof(frame)));
    assert_int_equal(nsent, 0);
    netdev_tx_begin(&dev); /* nested */
    netdev_tx_end(&dev);
    assert_int_equal(nsent, 0);
    netdev_tx_end(&dev);
    assert_int_equal(nsent, 1);
    assert_string_equal(sent[0], "U2");
    assert_int_equal(dev.urgent_deferred, 2);
}

static void test_poll_does_not_hold_it(void **state)
{
    (void)state;
    urgent_inside = "U1";
    netdev_poll(&dev);
    assert_int_equal(nsent, 1); /* sent from inside the poll's receive work, at once */
    assert_int_equal(dev.urgent_deferred, 0);
    bracket_in_poll = true;
    netdev_poll(&dev);
    assert_int_equal(nsent, 2); /* ... but after the driver's own ring work */
    assert_string_equal(sent[1], "U-reap");
    assert_int_equal(dev.urgent_deferred, 1);
}

static void test_refused_and_bad(void **state)
{
    (void)state;
    refuse = true;
    assert_false(netdev_tx_urgent(&dev, mk("U1"), sizeof(frame)));
    assert_int_equal(dev.urgent_drops, 1);
    assert_int_equal(flushes, 0);
    refuse = false;
    assert_false(netdev_tx_urgent(&dev, frame, ETH_MIN_FRAME - 1));
    assert_false(netdev_tx_urgent(&dev, frame, ETH_MAX_FRAME + 1));
    assert_int_equal(nsent, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_idle_sends_at_once, setup),
        cmocka_unit_test_setup(test_waits_for_transmit_in_progress, setup),
        cmocka_unit_test_setup(test_newer_replaces_parked, setup),
        cmocka_unit_test_setup(test_poll_does_not_hold_it, setup),
        cmocka_unit_test_setup(test_refused_and_bad, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
