/**
 * The comment that marks a table as a Matchbox collection. `collection:new` writes it (with
 * the declared metric as JSON after it); the `vectors` function looks for it.
 */
export const COLLECTION_MARKER = 'matchbox collection'
