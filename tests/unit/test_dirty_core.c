// SPDX-License-Identifier: Apache-2.0
// The generic dirty log (kernel/core/dirty.c, guest_mem.c) on the host-test arch: its software
// model of second-stage write protection and of a hardware dirty log (kernel/arch/fake), so the
// rules hold for any arch that keeps the dirty_arch_* contract, not just arm64's stage 2.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <cv/dirty.h>
#include <cv/vm.h>

#include <arch/fake.h>

#define NPAGES 64
#define BASE 0x40000000ull

static uint8_t ram[NPAGES * PAGE_SIZE] __attribute__((aligned(4096)));
static struct vm vm;

static int setup(void **state)
{
    (void)state;
    memset(&vm, 0, sizeof(vm));
    vm.ram = (struct guest_ram){.base = gpa(BASE), .size = sizeof(ram), .hva = ram};
    vm.dirty.npages = NPAGES;
    vm.vcpu.vm = &vm;
    assert_true(vm_arch_init(&vm));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dirty_log_stop(&vm);
    return 0;
}

static gpa_t page(unsigned n)
{
    return gpa(BASE + (uint64_t)n * PAGE_SIZE);
}

/* A guest store as the CPU runs it: a protected page faults into the arch's handler first. */
static void guest_store(unsigned n)
{
    if (fake_arch_guest_write(&vm, page(n))) {
        assert_true(dirty_log_fault(&vm, page(n)));
        dirty_log_guest_entering(&vm.dirty); /* the store re-executes */
        assert_false(fake_arch_guest_write(&vm, page(n)));
    }
    ram[(size_t)n * PAGE_SIZE] ^= 1;
}

static uint64_t harvest(uint64_t *bits)
{
    memset(bits, 0, dirty_bitmap_words(NPAGES) * sizeof(uint64_t));
    return dirty_log_harvest(&vm, bits);
}

static void test_wp_fault_logs_and_rearms(void **state)
{
    (void)state;
    uint64_t bits[1];
    assert_true(dirty_log_start(&vm, DIRTY_WP));
    assert_true(fake_arch_guest_write(&vm, page(3))); /* armed: the first store faults */
    guest_store(3);
    guest_store(3);
    guest_store(9);
    assert_int_equal(dirty_log_pending(&vm), 2);
    assert_int_equal(harvest(bits), 2);
    assert_int_equal(bits[0], (1ull << 3) | (1ull << 9));
    /* Harvest re-protects what it reported; untouched pages stayed protected. */
    assert_true(fake_arch_guest_write(&vm, page(3)));
    assert_true(fake_arch_guest_write(&vm, page(9)));
    assert_int_equal(harvest(bits), 0);
}

static void test_hw_log_collected(void **state)
{
    (void)state;
    uint64_t bits[1];
    vm.arch.hw_dirty = false;
    assert_false(dirty_mode_supported(&vm, DIRTY_HW));
    vm.arch.hw_dirty = true;
    assert_true(dirty_mode_supported(&vm, DIRTY_HW));
    assert_true(dirty_log_start(&vm, DIRTY_HW));
    guest_store(1);
    guest_store(5);
    guest_store(5);
    assert_int_equal(dirty_log_pending(&vm), 2);
    assert_int_equal(harvest(bits), 2);
    assert_int_equal(bits[0], (1ull << 1) | (1ull << 5));
    assert_int_equal(dirty_log_pending(&vm), 0);
}

static void test_hypervisor_writes_marked(void **state)
{
    (void)state;
    uint64_t bits[1];
    const uint8_t buf[PAGE_SIZE + 8] = {1};
    assert_true(dirty_log_start(&vm, DIRTY_WP));
    /* A device model's write spanning pages 6 and 7: stage 2 never sees it. */
    assert_true(vm_write(&vm, gpa(BASE + 7 * PAGE_SIZE - 4), buf, sizeof(buf)));
    assert_int_equal(harvest(bits), 3);
    assert_int_equal(bits[0], (1ull << 6) | (1ull << 7) | (1ull << 8));
    assert_false(vm_write(&vm, gpa(BASE + NPAGES * PAGE_SIZE - 4), buf, 8));
    assert_int_equal(harvest(bits), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wp_fault_logs_and_rearms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hw_log_collected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hypervisor_writes_marked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
