// A line diff of two site files for `fieldgate config diff`: the longest common subsequence of
// lines, shown as hunks with a little context. Files of a few thousand lines are the realistic
// maximum; beyond a size cap the table would cost too much memory and a summary is printed.

const CONTEXT = 2;
/** Cells of the LCS table allowed (after the common head and tail are removed). */
const MAX_CELLS = 4_000_000;

export function lineDiff(a: string, b: string, names: [string, string]): string {
  const x = a.split('\n');
  const y = b.split('\n');
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const xs = x.slice(head, x.length - tail);
  const ys = y.slice(head, y.length - tail);
  if (xs.length === 0 && ys.length === 0) return '';
  const out = [`--- ${names[0]}`, `+++ ${names[1]}`];
  if (xs.length * ys.length > MAX_CELLS) {
    out.push(`@@ lines ${head + 1}-${head + xs.length} replaced by ${ys.length} lines (too many changes to show line by line) @@`);
    return out.join('\n');
  }
  // ops in order: ' ' kept, '-' only in a, '+' only in b; line numbers are 1-based in a.
  const ops = script(xs, ys).map((op) => ({ ...op, line: op.line + head }));
  const all = [
    ...x.slice(0, head).map((text, i) => ({ kind: ' ', text, line: i + 1 })),
    ...ops,
    ...x.slice(x.length - tail).map((text, i) => ({ kind: ' ', text, line: x.length - tail + i + 1 })),
  ];
  for (let i = 0; i < all.length;) {
    if (all[i]!.kind === ' ') {
      i++;
      continue;
    }
    const start = Math.max(0, i - CONTEXT);
    let end = i;
    // Extend the hunk while the next change is within two contexts.
    for (let j = i; j < all.length; j++) {
      if (all[j]!.kind !== ' ') end = j;
      else if (j - end > CONTEXT * 2) break;
    }
    const stop = Math.min(all.length, end + CONTEXT + 1);
    out.push(`@@ line ${all[start]!.line} @@`);
    for (let k = start; k < stop; k++) out.push(`${all[k]!.kind}${all[k]!.text}`);
    i = stop;
  }
  return out.join('\n');
}

function script(xs: readonly string[], ys: readonly string[]): { kind: string; text: string; line: number }[] {
  const n = xs.length;
  const m = ys.length;
  // lcs[i][j]: length of the LCS of xs[i..] and ys[j..], flattened.
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = xs[i] === ys[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
    }
  }
  const out: { kind: string; text: string; line: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && xs[i] === ys[j]) {
      out.push({ kind: ' ', text: xs[i]!, line: i + 1 });
      i++;
      j++;
    } else if (i < n && (j === m || lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!)) {
      out.push({ kind: '-', text: xs[i]!, line: i + 1 });
      i++;
    } else {
      out.push({ kind: '+', text: ys[j]!, line: i + 1 });
      j++;
    }
  }
  return out;
}
