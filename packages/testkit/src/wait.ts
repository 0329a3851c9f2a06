/** Polls `cond` every 10 ms until it holds or `ms` pass; resolves with its last value. */
export async function waitUntil(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}
