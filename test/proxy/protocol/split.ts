/** Runs a parse over the same bytes delivered in every possible way that matters: whole, split in two at every offset, and one byte at a time. */
export function eachSplit(bytes: Buffer, check: (chunks: Buffer[], label: string) => void): void {
  check([bytes], 'whole');
  for (let i = 1; i < bytes.length; i++) check([bytes.subarray(0, i), bytes.subarray(i)], `split at ${i}`);
  const singles: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) singles.push(bytes.subarray(i, i + 1));
  check(singles, 'byte by byte');
}
