// A list of the console kept in step with the server's answer without redrawing it: each
// record keeps its own element (so focus and the reader's place survive a refresh), new ones
// are made, gone ones removed, and the elements put in the server's order without moving one
// that is already in place (moving an element drops its focus).

/**
 * Bring `ul` in step with `list`. `rows` (key -> row with its `item` element) persists between
 * calls; `keyOf(record)` gives a record's key (null to skip it), `make(record)` a new row,
 * `fill(row, record)` writes a record into its row.
 */
export function syncList(ul, rows, list, keyOf, make, fill) {
  const records = (Array.isArray(list) ? list : []).filter((r) => r && keyOf(r) !== null);
  const seen = new Set();
  for (const record of records) {
    const key = keyOf(record);
    seen.add(key);
    let row = rows.get(key);
    if (!row) {
      row = make(record);
      rows.set(key, row);
    }
    fill(row, record);
  }
  for (const [key, row] of rows) {
    if (!seen.has(key)) {
      row.item.remove();
      rows.delete(key);
    }
  }
  let at = ul.firstElementChild;
  for (const record of records) {
    const row = rows.get(keyOf(record));
    if (row.item === at) at = at.nextElementSibling;
    else ul.insertBefore(row.item, at);
  }
}
