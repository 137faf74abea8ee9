// SPDX-License-Identifier: Apache-2.0
// Shell command `colo`: the operator's side of the checkpoint engine (cv/colo_board.h). Parses
// the arguments and words every reply here; the engine carries the actions out. Scripts parse
// `colo status` key=value lines and the `colo: ...` replies, so their text is a contract.
#include <string.h>

#include <cv/colo_board.h>
#include <cv/log.h>
#include <cv/shell.h>

#define COLO_USAGE                                                                                 \
    "colo start|stop|status|history|failover|switchover|peer-down|measure <pages>|"                \
    "inject lose-abort|"                                                                           \
    "set checkpoint-delay|output-delay|dirty-threshold|hb-period|hb-miss|buffer-kib <n>|"          \
    "set verify on|off"

static int cmd_colo(int argc, char **argv);
SHELL_CMD(colo, {"colo", COLO_USAGE, "COLO protection: start, stop, status, failover, settings",
                 cmd_colo});

static int no_key(void)
{
    cv_printf("colo: refused: this board has no pair key (cv.key; a witness key too with "
              "witnesses). Generate one with tools/cv-keygen, or boot with cv.insecure=1 "
              "(unauthenticated: tests only)\n");
    return 1;
}

static int unavailable(void)
{
    if (colo_board_no_key()) {
        return no_key();
    }
    cv_printf("colo: checkpointing is unavailable on this board (see the boot log)\n");
    return 1;
}

/* `colo measure <pages>`: what the local part of a checkpoint pause costs on this board. */
static int measure(const char *arg)
{
    uint64_t pages;
    struct colo_board_measure m;
    enum colo_board_result r =
        shell_parse_u64(arg, &pages) ? colo_board_measure(pages, &m) : COLO_BOARD_OUT_OF_RANGE;
    switch (r) {
    case COLO_BOARD_OK:
        break;
    case COLO_BOARD_UNAVAILABLE:
        return unavailable();
    case COLO_BOARD_OUT_OF_RANGE:
        cv_printf("colo: measure takes 1..%u pages (the staging area)\n",
                  colo_board_staging_pages());
        return 1;
    case COLO_BOARD_BUSY:
        cv_printf("colo: measure would overwrite the staging of a live session: stop first\n");
        return 1;
    default:
        return 1; /* out of memory, logged */
    }
    uint64_t copy = m.copy_us;
    cv_printf("colo: measure pages=%llu copy_us=%llu copy_mib_s=%llu hash_ram_us=%llu "
              "ram_pages=%llu hash=%08x\n",
              (unsigned long long)pages, (unsigned long long)copy,
              (unsigned long long)(copy ? m.copy_bytes / copy * 1000000 / (1 << 20) : 0),
              (unsigned long long)m.hash_us, (unsigned long long)m.ram_pages, m.hash);
    return 0;
}

/* The numeric settings: their names on the command line and the unit their range is in. */
static const struct {
    const char *name;
    enum colo_board_setting what;
    const char *unit; /* follows "must be lo..hi" */
} settings[] = {
    {"checkpoint-delay", COLO_SET_CHECKPOINT_DELAY, " ms"},
    {"hb-period", COLO_SET_HB_PERIOD, " ms"},
    {"hb-miss", COLO_SET_HB_MISS, " periods"},
    {"output-delay", COLO_SET_OUTPUT_DELAY, " ms (0: off)"},
    {"buffer-kib", COLO_SET_BUFFER_KIB, ""},
    {"dirty-threshold", COLO_SET_DIRTY_THRESHOLD, " pages (0: half the staging)"},
};

static int set_verify(const char *arg)
{
    if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0) {
        return shell_usage(&shell_cmd_colo);
    }
    if (colo_board_set_verify(strcmp(arg, "on") == 0) != COLO_BOARD_OK) {
        cv_printf("colo: verification is agreed at the handshake: stop first\n");
        return 1;
    }
    struct colo_board_settings s;
    colo_board_get_settings(&s);
    cv_printf("colo: verify=%s\n", s.verify ? "on" : "off");
    return 0;
}

static int colo_set(int argc, char **argv)
{
    uint64_t v;
    if (argc != 4) {
        return shell_usage(&shell_cmd_colo);
    }
    if (strcmp(argv[2], "verify") == 0) {
        return set_verify(argv[3]);
    }
    if (!shell_parse_u64(argv[3], &v)) {
        return shell_usage(&shell_cmd_colo);
    }
    unsigned k = 0;
    while (k < ARRAY_SIZE(settings) && strcmp(argv[2], settings[k].name) != 0) {
        k++;
    }
    if (k == ARRAY_SIZE(settings)) {
        return shell_usage(&shell_cmd_colo);
    }
    uint32_t lo, hi;
    switch (colo_board_set(settings[k].what, v, &lo, &hi)) {
    case COLO_BOARD_OK:
        break;
    case COLO_BOARD_OUT_OF_RANGE:
        cv_printf("colo: %s must be %u..%u%s\n", settings[k].name, lo, hi, settings[k].unit);
        return 1;
    case COLO_BOARD_UNAVAILABLE:
        cv_printf("colo: checkpointing is unavailable on this board\n");
        return 1;
    default:
        cv_printf("colo: the output buffer holds the guest's output: stop first\n");
        return 1;
    }
    struct colo_board_settings s;
    colo_board_get_settings(&s);
    switch (settings[k].what) {
    case COLO_SET_HB_PERIOD:
        cv_printf("colo: hb_period_ms=%u (the peer should use the same)\n", s.hb_period_ms);
        break;
    case COLO_SET_HB_MISS:
        cv_printf("colo: hb_miss=%u\n", s.hb_miss);
        break;
    case COLO_SET_OUTPUT_DELAY:
        cv_printf("colo: output_delay_ms=%u\n", s.output_delay_ms);
        break;
    case COLO_SET_BUFFER_KIB:
        cv_printf("colo: buffer_capacity=%u\n", (unsigned)s.buffer_capacity);
        break;
    default:
        cv_printf("colo: checkpoint_delay_ms=%u dirty_threshold=%llu\n", s.checkpoint_delay_ms,
                  (unsigned long long)s.dirty_threshold);
        break;
    }
    return 0;
}

static int start(void)
{
    switch (colo_board_start()) {
    case COLO_BOARD_NO_KEY:
        return no_key();
    case COLO_BOARD_UNAVAILABLE:
        return unavailable();
    case COLO_BOARD_WAITING:
        cv_printf("colo: already waiting for the primary (state=%s)\n", colo_board_state_name());
        return 0;
    case COLO_BOARD_STARTED:
        cv_printf("colo: already started (state=%s)\n", colo_board_state_name());
        return 0;
    case COLO_BOARD_NOT_RUNNING:
        cv_printf("colo: the guest is not running; nothing to protect\n");
        return 1;
    case COLO_BOARD_LISTEN_FAILED:
        colo_board_show_state();
        return 1;
    default:
        colo_board_show_state();
        return 0;
    }
}

static int stop(void)
{
    switch (colo_board_stop()) {
    case COLO_BOARD_UNAVAILABLE:
        return unavailable();
    case COLO_BOARD_NOT_STARTED:
        cv_printf("colo: not started\n");
        break;
    default:
        break;
    }
    colo_board_show_state();
    return 0;
}

static int cmd_colo(int argc, char **argv)
{
    if (argc < 2) {
        return shell_usage(&shell_cmd_colo);
    }
    const char *sub = argv[1];
    if (strcmp(sub, "set") == 0) {
        return colo_set(argc, argv);
    }
    if (strcmp(sub, "measure") == 0) {
        if (argc != 3) {
            return shell_usage(&shell_cmd_colo);
        }
        if (!colo_board_ready()) {
            return unavailable();
        }
        return measure(argv[2]);
    }
    if (strcmp(sub, "inject") == 0) {
        if (argc != 3 || strcmp(argv[2], "lose-abort") != 0) {
            return shell_usage(&shell_cmd_colo);
        }
        if (colo_board_inject_lose_abort() != COLO_BOARD_OK) {
            return unavailable();
        }
        cv_printf("colo: the next ABORT this board sends will be lost\n");
        return 0;
    }
    if (argc != 2) {
        return shell_usage(&shell_cmd_colo);
    }
    if (strcmp(sub, "status") == 0) {
        colo_board_print_status();
        return 0;
    }
    if (strcmp(sub, "history") == 0) {
        colo_board_print_history();
        return 0;
    }
    if (!colo_board_ready()) {
        return unavailable();
    }
    if (strcmp(sub, "failover") == 0) {
        switch (colo_board_failover()) {
        case COLO_BOARD_OK:
            return 0;
        case COLO_BOARD_WRONG_ROLE:
            cv_printf("colo: failover is for a secondary (this board is the primary)\n");
            return 1;
        case COLO_BOARD_NO_REPLICA:
            cv_printf("colo: no committed checkpoint to fail over to\n");
            return 1;
        default:
            return unavailable();
        }
    }
    if (strcmp(sub, "peer-down") == 0) {
        const char *why;
        switch (colo_board_peer_down(&why)) {
        case COLO_BOARD_OK:
            cv_printf("colo: peer declared down\n");
            return 0;
        case COLO_BOARD_REFUSED:
            cv_printf("colo: peer-down refused: %s\n", why);
            return 1;
        default:
            return unavailable();
        }
    }
    if (strcmp(sub, "switchover") == 0) {
        switch (colo_board_switchover()) {
        case COLO_BOARD_OK:
            cv_printf("colo: switchover after the checkpoint under way\n");
            return 0;
        case COLO_BOARD_REFUSED:
            cv_printf("colo: switchover needs a protected primary (state=%s)\n",
                      colo_board_state_name());
            return 1;
        default:
            return unavailable();
        }
    }
    if (strcmp(sub, "start") == 0) {
        return start();
    }
    if (strcmp(sub, "stop") == 0) {
        return stop();
    }
    return shell_usage(&shell_cmd_colo);
}
