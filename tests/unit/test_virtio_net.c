// SPDX-License-Identifier: Apache-2.0
// Split-virtqueue bookkeeping (kernel/drivers/virtq.c) against a fake device that consumes the
// avail ring and fills the used ring the way a virtio device does: layout, free-id stack,
// publish and notification suppression, index wrap-around, bad ids from a buggy device.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cv/virtio_mmio.h>

/* The device's view: where it has read the avail ring up to, and its used index. */
struct fake_dev {
    struct virtq *vq;
    uint16_t avail_seen;
    uint16_t used_idx;
};

/* Takes up to max newly available buffers and returns them used, each with len bytes. */
static unsigned dev_process(struct fake_dev *d, unsigned max, uint32_t len)
{
    struct virtq *vq = d->vq;
    unsigned n = 0;
    while (n < max && d->avail_seen != vq->avail->idx) {
        uint16_t id = vq->avail->ring[d->avail_seen % vq->size];
        assert_true(id < vq->size);
        struct virtq_used_elem *e = &vq->used->ring[d->used_idx % vq->size];
        e->id = id;
        e->len = len;
        d->avail_seen++;
        d->used_idx++;
        n++;
    }
    vq->used->idx = d->used_idx;
    return n;
}

static void *ring_mem(uint16_t size)
{
    void *p = aligned_alloc(4096, (virtq_ring_bytes(size) + 4095) & ~(size_t)4095);
    assert_non_null(p);
    return p;
}

static void test_layout(void **state)
{
    (void)state;
    struct virtq vq;
    void *mem = ring_mem(256);
    assert_false(virtq_init(&vq, 0, mem, 0, 2048));
    assert_false(virtq_init(&vq, 100, mem, 0, 2048));
    assert_false(virtq_init(&vq, 512, mem, 0, 2048));
    assert_true(virtq_init(&vq, 256, mem, 0x40000000, 2048));
    uint8_t *base = mem;
    /* virtio 1.x alignment: descriptors 16, avail 2, used 4; all inside the ring memory. */
    assert_ptr_equal((uint8_t *)vq.desc, base);
    assert_int_equal((uintptr_t)vq.avail % 2, 0);
    assert_int_equal((uintptr_t)vq.used % 4, 0);
    assert_true((uint8_t *)vq.avail >= base + 16 * 256);
    assert_true((uint8_t *)&vq.avail->ring[256] <= (uint8_t *)vq.used);
    assert_true((uint8_t *)&vq.used->ring[256] + 2 <= base + virtq_ring_bytes(256));
    assert_int_equal(vq.desc[3].addr, 0x40000000 + 3 * 2048);
    assert_int_equal(vq.desc[3].len, 2048);
    assert_int_equal(vq.num_free, 256);
    free(mem);
}

static void test_rx_refill_cycle(void **state)
{
    (void)state;
    struct virtq vq;
    void *mem = ring_mem(8);
    assert_true(virtq_init(&vq, 8, mem, 0x1000, 2048));
    struct fake_dev dev = {&vq, 0, 0};
    uint16_t id;
    uint32_t len;
    /* Prepost every buffer, device-writable. */
    while (virtq_get_free(&vq, &id)) {
        virtq_push(&vq, id, 2048, true);
    }
    assert_int_equal(vq.avail->idx, 0); /* nothing visible before publish */
    assert_true(virtq_publish(&vq));
    assert_false(virtq_publish(&vq)); /* nothing new */
    assert_int_equal(vq.avail->idx, 8);
    assert_int_equal(virtq_in_flight(&vq), 8);
    for (unsigned i = 0; i < 8; i++) {
        assert_int_equal(vq.desc[i].flags, VIRTQ_DESC_F_WRITE);
    }
    assert_false(virtq_pop_used(&vq, &id, &len));
    /* Many rounds: indices wrap past 65535 and ring slots wrap past 8. */
    unsigned seen = 0;
    for (unsigned round = 0; round < 30000; round++) {
        unsigned n = dev_process(&dev, 1 + round % 5, 60 + round % 1000);
        unsigned got = 0;
        while (virtq_pop_used(&vq, &id, &len)) {
            assert_int_equal(len, 60 + round % 1000);
            virtq_push(&vq, id, 2048, true);
            got++;
        }
        assert_int_equal(got, n);
        seen += got;
        virtq_publish(&vq);
        assert_int_equal(virtq_in_flight(&vq), 8);
    }
    assert_true(seen > 65536);
    free(mem);
}

static void test_tx_free_ids_and_notify(void **state)
{
    (void)state;
    struct virtq vq;
    void *mem = ring_mem(4);
    assert_true(virtq_init(&vq, 4, mem, 0x2000, 2048));
    struct fake_dev dev = {&vq, 0, 0};
    uint16_t ids[4], id;
    uint32_t len;
    for (unsigned i = 0; i < 4; i++) {
        assert_true(virtq_get_free(&vq, &ids[i]));
        virtq_push(&vq, ids[i], 100 + i, false);
        assert_int_equal(vq.desc[ids[i]].flags, 0);
        assert_int_equal(vq.desc[ids[i]].len, 100 + i);
    }
    assert_false(virtq_get_free(&vq, &id)); /* all in flight */
    virtq_publish(&vq);
    assert_true(virtq_should_notify(&vq));
    vq.used->flags = VIRTQ_USED_F_NO_NOTIFY;
    assert_false(virtq_should_notify(&vq));
    vq.used->flags = 0;
    assert_int_equal(dev_process(&dev, 2, 0), 2);
    while (virtq_pop_used(&vq, &id, &len)) {
        virtq_put_free(&vq, id);
    }
    assert_int_equal(vq.num_free, 2);
    assert_int_equal(virtq_in_flight(&vq), 2);
    /* The ids that came back are reusable and distinct. */
    uint16_t a, b;
    assert_true(virtq_get_free(&vq, &a));
    assert_true(virtq_get_free(&vq, &b));
    assert_true(a != b && (a == ids[0] || a == ids[1]) && (b == ids[0] || b == ids[1]));
    /* put_free ignores garbage and overflow. */
    virtq_put_free(&vq, 99);
    assert_int_equal(vq.num_free, 0);
    free(mem);
}

static void test_bad_used_id_skipped(void **state)
{
    (void)state;
    struct virtq vq;
    void *mem = ring_mem(4);
    assert_true(virtq_init(&vq, 4, mem, 0, 2048));
    uint16_t id;
    uint32_t len;
    assert_true(virtq_get_free(&vq, &id));
    virtq_push(&vq, id, 10, false);
    virtq_publish(&vq);
    vq.used->ring[0] = (struct virtq_used_elem){.id = 77, .len = 1};
    vq.used->ring[1] = (struct virtq_used_elem){.id = id, .len = 10};
    vq.used->idx = 2;
    uint16_t got;
    assert_true(virtq_pop_used(&vq, &got, &len));
    assert_int_equal(got, id);
    assert_int_equal(vq.bad_used, 1);
    assert_false(virtq_pop_used(&vq, &got, &len));
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_rx_refill_cycle),
        cmocka_unit_test(test_tx_free_ids_and_notify),
        cmocka_unit_test(test_bad_used_id_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
