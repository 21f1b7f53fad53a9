#ifndef CRANK_H
#define CRANK_H

/*
 * Retrieval's ranking functions for SQLite's FTS5, in C because FTS5 calls them once per matching
 * row: fbt_bm25 (bm25 with the caller's row counts) and fbt_phrases (which words a row holds).
 * Registers both on a connection (a `sqlite3 *`); returns an SQLite result code.
 */
int fbt_register_fts5_functions(void *connection);

#endif
