#include "CRank.h"

#include <math.h>
#include <sqlite3.h>

/*
 * fbt_bm25(table, weight of each column..., rows each phrase matches...): the score FTS5's built-in
 * bm25() gives (k1 1.2, b 0.75, idf ln((N - n + 0.5) / (n + 0.5)) but at least 1e-6, negated so that
 * smaller is better), except that n, the rows each phrase matches, is given by the caller instead
 * of counted by FTS5. A phrase given a negative count only filters: it adds nothing to the score.
 *
 * FTS5's bm25() counts the rows every phrase of the query matches, walking each phrase's whole
 * doclist, every time a statement runs. Retrieval runs one statement per candidate note to find its
 * best section, with the same words each time, and already knows how many rows hold each word:
 * passed in, the count is made once instead of once per statement.
 */
static void fbt_bm25_function(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *context,
                              int argc, sqlite3_value **argv) {
    int columns = api->xColumnCount(fts);
    int phrases = api->xPhraseCount(fts);
    if (argc != columns + phrases) {
        sqlite3_result_error(context, "fbt_bm25: give one weight per column and one row count per phrase", -1);
        return;
    }
    sqlite3_int64 rows = 0, tokens = 0;
    int rc = api->xRowCount(fts, &rows);
    if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &tokens);
    double local[64];
    double *frequency = phrases <= 64 ? local : (double *)sqlite3_malloc64(sizeof(double) * (sqlite3_uint64)phrases);
    if (frequency == 0) { sqlite3_result_error_nomem(context); return; }
    for (int p = 0; p < phrases; p++) frequency[p] = 0;
    /* Each phrase's own instances (xPhraseFirst), not xInst: xInst first merges every phrase's
       positions into one sorted list; a filter-only phrase is not read at all. */
    for (int p = 0; rc == SQLITE_OK && p < phrases; p++) {
        if (sqlite3_value_double(argv[columns + p]) < 0) continue;
        Fts5PhraseIter iter;
        int column = 0, offset = 0;
        rc = api->xPhraseFirst(fts, p, &iter, &column, &offset);
        while (rc == SQLITE_OK && column >= 0) {
            if (column < columns) frequency[p] += sqlite3_value_double(argv[column]);
            api->xPhraseNext(fts, &iter, &column, &offset);
        }
    }
    int length = 0;
    if (rc == SQLITE_OK) rc = api->xColumnSize(fts, -1, &length);
    if (rc != SQLITE_OK) {
        if (frequency != local) sqlite3_free(frequency);
        sqlite3_result_error_code(context, rc);
        return;
    }
    const double k1 = 1.2, b = 0.75;
    double average = rows > 0 ? (double)tokens / (double)rows : 1.0;
    if (average <= 0) average = 1.0;
    double score = 0;
    for (int p = 0; p < phrases; p++) {
        if (frequency[p] <= 0) continue;
        double hits = sqlite3_value_double(argv[columns + p]);
        if (hits < 0) continue;
        double idf = log(((double)rows - hits + 0.5) / (hits + 0.5));
        if (idf <= 0) idf = 1e-6;
        score += idf * (frequency[p] * (k1 + 1.0)) / (frequency[p] + k1 * (1.0 - b + b * (double)length / average));
    }
    if (frequency != local) sqlite3_free(frequency);
    sqlite3_result_double(context, -score);
}

/*
 * fbt_phrases(table): which phrases of the query the current row holds, as bits (bit p for phrase p
 * below 63; bit 63 for any phrase from 63 on). Retrieval looks only for these words in the row's
 * sections.
 */
static void fbt_phrases_function(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *context,
                                 int argc, sqlite3_value **argv) {
    (void)argc; (void)argv;
    int phrases = api->xPhraseCount(fts);
    int rc = SQLITE_OK;
    sqlite3_uint64 bits = 0;
    for (int p = 0; rc == SQLITE_OK && p < phrases; p++) {
        Fts5PhraseIter iter;
        int column = -1, offset = 0;
        rc = api->xPhraseFirst(fts, p, &iter, &column, &offset);
        if (rc == SQLITE_OK && column >= 0) bits |= (sqlite3_uint64)1 << (p < 63 ? p : 63);
    }
    if (rc != SQLITE_OK) { sqlite3_result_error_code(context, rc); return; }
    sqlite3_result_int64(context, (sqlite3_int64)bits);
}

/* Registers fbt_bm25 and fbt_phrases on a connection (FTS5's API is reached through `SELECT fts5(?1)`). */
int fbt_register_fts5_functions(void *connection) {
    sqlite3 *db = (sqlite3 *)connection;
    fts5_api *api = 0;
    sqlite3_stmt *statement = 0;
    int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &statement, 0);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_pointer(statement, 1, (void *)&api, "fts5_api_ptr", 0);
    sqlite3_step(statement);
    sqlite3_finalize(statement);
    if (api == 0 || api->iVersion < 2) return SQLITE_ERROR;
    rc = api->xCreateFunction(api, "fbt_bm25", 0, fbt_bm25_function, 0);
    if (rc != SQLITE_OK) return rc;
    return api->xCreateFunction(api, "fbt_phrases", 0, fbt_phrases_function, 0);
}
