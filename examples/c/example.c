/*
 * PPDB from C: put and get, expiry, a snapshot, transactions (one of them losing a conflict and
 * retrying), and iteration over a key range.
 *
 * Build and run from the repository root (Linux; see docs/embedding.md for macOS):
 *
 *   cargo build -p ppdb-ffi --release
 *   gcc -std=c99 -Wall -Wextra -Iffi/include examples/c/example.c \
 *       target/release/libppdb.a -lpthread -ldl -lm -o /tmp/ppdb-example
 *   /tmp/ppdb-example
 *
 * With a directory as its argument (`/tmp/ppdb-example DIR`) it first opens a database in disk
 * mode there, writes a key, closes, opens it again and reads the key back.
 *
 * It exits with 0 if every step behaved as documented, and 1 (naming the step) otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppdb.h"

/* Reports a failed step with the library's message and leaves. */
static void fail(const char *step, ppdb_status status) {
    fprintf(stderr, "example: %s: %s: %s\n", step, ppdb_status_name(status), ppdb_last_error());
    exit(1);
}

/* Checks that a call returned `expected`. */
static void expect(const char *step, ppdb_status status, ppdb_status expected) {
    if (status != expected) {
        fail(step, status);
    }
}

static ppdb_status put_str(ppdb_db *db, const char *key, const char *value) {
    return ppdb_put(db, (const uint8_t *)key, strlen(key), (const uint8_t *)value, strlen(value),
                    0, 0, NULL);
}

/* Adds `amount` to the decimal counter at `key` in one snapshot-isolated transaction. Returns
 * the commit's status (PPDB_CONFLICT if a concurrent commit changed the counter first). */
static ppdb_status add_in_txn(ppdb_txn *txn, const char *key, long amount) {
    ppdb_value value;
    char text[32];
    long counter = 0;
    ppdb_status status = ppdb_txn_get(txn, (const uint8_t *)key, strlen(key), &value);
    if (status == PPDB_OK) {
        size_t n = value.len < sizeof text - 1 ? value.len : sizeof text - 1;
        memcpy(text, value.data, n);
        text[n] = '\0';
        counter = strtol(text, NULL, 10);
        ppdb_value_free(&value);
    } else if (status != PPDB_NOT_FOUND) {
        ppdb_txn_abort(txn);
        return status;
    }
    snprintf(text, sizeof text, "%ld", counter + amount);
    status = ppdb_txn_put(txn, (const uint8_t *)key, strlen(key), (const uint8_t *)text,
                          strlen(text), 0, 0);
    if (status != PPDB_OK) {
        ppdb_txn_abort(txn);
        return status;
    }
    return ppdb_txn_commit(txn, NULL);
}

int main(int argc, char **argv) {
    ppdb_options options;
    ppdb_db *db = NULL;
    ppdb_value value;
    uint64_t version = 0;

    printf("libppdb %s\n", ppdb_version());
    expect("options_init", ppdb_options_init(&options), PPDB_OK);

    /* Disk mode: what is written survives closing and opening the directory again. */
    if (argc > 1) {
        options.data_dir = argv[1];
        expect("open data_dir", ppdb_open(&options, &db), PPDB_OK);
        expect("put on disk", ppdb_put(db, (const uint8_t *)"kept", 4, (const uint8_t *)"on disk",
                                       7, 0, 0, &version),
               PPDB_OK);
        ppdb_close(db);
        expect("reopen data_dir", ppdb_open(&options, &db), PPDB_OK);
        expect("get from disk", ppdb_get(db, (const uint8_t *)"kept", 4, &value), PPDB_OK);
        printf("data_dir: reopened, kept = %.*s\n", (int)value.len, (const char *)value.data);
        ppdb_value_free(&value);
        ppdb_close(db);
        db = NULL;
        options.data_dir = NULL;
    }

    /* Open a database in memory with a 64 MiB limit. */
    options.memory_bytes_max = 64u << 20;
    expect("open", ppdb_open(&options, &db), PPDB_OK);

    /* Put and get, with flags and an expiry an hour from now. */
    expect("put", ppdb_put(db, (const uint8_t *)"greeting", 8, (const uint8_t *)"hello", 5, 42,
                           ppdb_now(db) + 3600, &version),
           PPDB_OK);
    expect("get", ppdb_get(db, (const uint8_t *)"greeting", 8, &value), PPDB_OK);
    printf("get greeting = %.*s (flags %u, version %llu)\n", (int)value.len,
           (const char *)value.data, value.flags, (unsigned long long)value.version);
    if (value.len != 5 || memcmp(value.data, "hello", 5) != 0 || value.flags != 42 ||
        value.version != version) {
        fail("get returned the wrong value", PPDB_OK);
    }
    ppdb_value_free(&value);
    expect("get missing", ppdb_get(db, (const uint8_t *)"nobody", 6, &value), PPDB_NOT_FOUND);

    /* A snapshot keeps seeing the old value after an overwrite. */
    ppdb_snapshot *snapshot = NULL;
    expect("snapshot", ppdb_snapshot_take(db, &snapshot), PPDB_OK);
    expect("overwrite", put_str(db, "greeting", "bonjour"), PPDB_OK);
    expect("snapshot get", ppdb_snapshot_get(snapshot, (const uint8_t *)"greeting", 8, &value),
           PPDB_OK);
    printf("snapshot sees greeting = %.*s\n", (int)value.len, (const char *)value.data);
    ppdb_value_free(&value);
    ppdb_snapshot_release(snapshot);

    /* Two transactions add to the same counter; the second to commit conflicts and retries. */
    expect("put counter", put_str(db, "counter", "10"), PPDB_OK);
    ppdb_txn *first = NULL, *second = NULL;
    expect("begin first", ppdb_txn_begin(db, PPDB_ISOLATION_SNAPSHOT, &first), PPDB_OK);
    expect("begin second", ppdb_txn_begin(db, PPDB_ISOLATION_SNAPSHOT, &second), PPDB_OK);
    expect("commit first", add_in_txn(first, "counter", 5), PPDB_OK);
    ppdb_status status = add_in_txn(second, "counter", 100);
    expect("commit second (conflict)", status, PPDB_CONFLICT);
    printf("second transaction: %s (%s)\n", ppdb_status_name(status), ppdb_last_error());
    for (int attempt = 0; status == PPDB_CONFLICT && attempt < 10; attempt++) {
        expect("begin retry", ppdb_txn_begin(db, PPDB_ISOLATION_SNAPSHOT, &second), PPDB_OK);
        status = add_in_txn(second, "counter", 100);
    }
    expect("retry", status, PPDB_OK);
    expect("get counter", ppdb_get(db, (const uint8_t *)"counter", 7, &value), PPDB_OK);
    printf("counter = %.*s\n", (int)value.len, (const char *)value.data);
    if (value.len != 3 || memcmp(value.data, "115", 3) != 0) {
        fail("the counter should be 10 + 5 + 100", PPDB_OK);
    }
    ppdb_value_free(&value);

    /* Iterate over the keys from "fruit:" up to "fruit;" (the byte after ':'). */
    const char *fruits[] = {"fruit:cherry", "fruit:apple", "fruit:banana", "vegetable:leek"};
    for (size_t i = 0; i < sizeof fruits / sizeof fruits[0]; i++) {
        expect("put fruit", put_str(db, fruits[i], "1"), PPDB_OK);
    }
    expect("delete", ppdb_delete(db, (const uint8_t *)"fruit:banana", 12, NULL), PPDB_OK);
    ppdb_iter *iter = NULL;
    expect("iter", ppdb_iter_open(db, (const uint8_t *)"fruit:", 6, (const uint8_t *)"fruit;", 6,
                                  &iter),
           PPDB_OK);
    ppdb_entry entry;
    int seen = 0;
    while ((status = ppdb_iter_next(iter, &entry)) == PPDB_OK) {
        printf("iter %.*s (version %llu)\n", (int)entry.key_len, (const char *)entry.key,
               (unsigned long long)entry.version);
        seen++;
    }
    expect("iter end", status, PPDB_END);
    ppdb_iter_free(iter);
    if (seen != 2) {
        fail("the range should hold fruit:apple and fruit:cherry", PPDB_OK);
    }

    /* Errors are values with messages, never crashes. */
    expect("empty key", ppdb_get(db, (const uint8_t *)"", 0, &value), PPDB_INVALID_KEY);
    printf("empty key: %s\n", ppdb_last_error());
    expect("NULL key", ppdb_get(db, NULL, 3, &value), PPDB_INVALID_ARGUMENT);

    ppdb_close(db);
    printf("ok\n");
    return 0;
}
