import { getTableColumns, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { events } from '../../core/core.schema.ts';
import { inTransaction, type Db } from '../../core/db.ts';
import { captures } from './capture.schema.ts';
import type { CaptureRecord } from './record-capture.command.ts';

/**
 * Writes many prepared captures (`captureRecord`) and their `capture.recorded` events in one transaction, with
 * one statement per table. Each statement carries all its rows as a single JSON parameter, unpacked by
 * PostgreSQL's `json_to_recordset`: building a multi-row INSERT with thousands of parameters costs the proxy's
 * process more than the database's JSON parser costs PostgreSQL. The capture log writes the proxy's traffic
 * this way, so the field log does not compete with the calls it records.
 */
export async function insertCaptureRecords(db: Db, records: CaptureRecord[]): Promise<void> {
  if (records.length === 0) return;
  await inTransaction(db, async (tx) => {
    await insertAsRecordset(tx, captures, records.map((r) => r.row), { column: 'search', value: sql`to_tsvector('english', r.search_text)`, from: { name: 'search_text', type: 'text', values: records.map((r) => r.searchText) } });
    await insertAsRecordset(tx, events, records.map((r) => ({ ...r.event, payload: r.event.payload ?? {} })));
  });
}

/** A column computed in SQL from a value sent beside the rows (the search vector from its text). */
interface ComputedColumn {
  column: string;
  value: ReturnType<typeof sql>;
  from: { name: string; type: string; values: unknown[] };
}

/**
 * `INSERT INTO table (cols) SELECT cols FROM json_to_recordset($1) AS r(col type, ...)`: rows are keyed by the
 * table's property names (as Drizzle's inserts are); only the keys present in the first row are written, so
 * columns left out keep their defaults. Dates travel as ISO text, JSON columns as JSON.
 */
async function insertAsRecordset(db: Db, table: PgTable, rows: Array<Record<string, unknown>>, computed?: ComputedColumn): Promise<void> {
  const columns = Object.entries(getTableColumns(table) as Record<string, PgColumn>).filter(([key]) => rows[0]![key] !== undefined);
  const names = columns.map(([, column]) => `"${column.name}"`);
  const types = columns.map(([, column]) => `"${column.name}" ${column.getSQLType()}`);
  const json = rows.map((row, i) => {
    const out: Record<string, unknown> = {};
    for (const [key, column] of columns) {
      const value = row[key];
      out[column.name] = value instanceof Date ? value.toISOString() : value === undefined ? null : value;
    }
    if (computed) out[computed.from.name] = computed.from.values[i];
    return out;
  });
  const target = computed ? [...names, `"${computed.column}"`] : names;
  const selected = computed ? sql.join([sql.raw(names.map((n) => `r.${n}`).join(', ')), computed.value], sql.raw(', ')) : sql.raw(names.map((n) => `r.${n}`).join(', '));
  const recordType = computed ? [...types, `"${computed.from.name}" ${computed.from.type}`] : types;
  await db.execute(
    sql`INSERT INTO ${table} (${sql.raw(target.join(', '))}) SELECT ${selected} FROM json_to_recordset(${JSON.stringify(json)}::json) AS r(${sql.raw(recordType.join(', '))})`,
  );
}
