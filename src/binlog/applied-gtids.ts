/**
 * The GTIDs a stream has applied: MariaDB's `domain-server-seq` of the last applied group per
 * replication domain (reported comma-separated, as `@@gtid_binlog_pos`), or MySQL's last GTID.
 */
export class AppliedGtids {
  // MariaDB GTIDs (domain-server-seq): the last applied per replication domain.
  readonly #byDomain = new Map<string, string>();
  #current: string | null = null;

  /** The applied GTID position, or null when none is known. */
  get current(): string | null {
    return this.#current;
  }

  /** Notes every GTID of a comma-separated list (a start position) as applied. */
  noteAll(list: string | null | undefined): void {
    for (const g of list?.split(',') ?? []) if (g.trim()) this.note(g.trim());
  }

  /** Notes one applied group's GTID. */
  note(gtid: string): void {
    const dash = gtid.indexOf('-');
    if (dash > 0 && /^\d+-\d+-\d+$/.test(gtid)) {
      this.#byDomain.set(gtid.slice(0, dash), gtid);
      this.#current = this.#byDomain.size === 1 ? gtid : [...this.#byDomain.values()].join(',');
    } else {
      this.#current = gtid;
    }
  }

  /** Forgets everything (the binlog was reset: its GTIDs start again). */
  clear(): void {
    this.#byDomain.clear();
    this.#current = null;
  }
}
