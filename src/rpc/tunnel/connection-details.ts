/**
 * The edge's answer to a successful `registerConnection` as the connector reports it (docs/protocol.md §6.7). Kept
 * apart from the codec so that public declarations importing it carry no Cap'n Proto types.
 */
export interface ConnectionDetails {
  /** The edge's id for this connection (16 bytes, shown as a UUID). */
  readonly uuid: string;
  /** Edge location code, e.g. `TST` or `lhr01`. */
  readonly locationName: string;
  readonly tunnelIsRemotelyManaged: boolean;
}
