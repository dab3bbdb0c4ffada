// Times in JST with the zone written (`2026-12-07 08:28 JST`), sizes in KB/MB.
const jstParts = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Tokyo',
  year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});

function parts(d) {
  return Object.fromEntries(jstParts.formatToParts(d).map((p) => [p.type, p.value]));
}

// An ISO 8601 time (or µs/ms number) → "YYYY-MM-DD HH:MM JST"; "—" when there is none.
export function jst(v) {
  if (v === null || v === undefined || v === '') return '—';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  const p = parts(d);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} JST`;
}

// "YYYY-MM-DD" (a day in JST) → "MM/DD" for chart axes.
export function shortDay(day) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(day));
  return m ? `${m[2]}/${m[3]}` : String(day);
}

export function bytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

// A date input's "YYYY-MM-DD" (a day in JST) → the first or last instant of that day, as
// the API's ISO 8601 with offset; "" stays "".
export function dayStart(day) {
  return /^\d{4}-\d{2}-\d{2}$/.test(day || '') ? `${day}T00:00:00+09:00` : '';
}
export function dayEnd(day) {
  return /^\d{4}-\d{2}-\d{2}$/.test(day || '') ? `${day}T23:59:59.999999+09:00` : '';
}
