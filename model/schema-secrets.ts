/** A JSON Schema, as far as finding secret fields needs. */
interface SchemaNode {
  type?: string | string[];
  format?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode | SchemaNode[];
  additionalProperties?: boolean | SchemaNode;
}

/**
 * Returns a copy of `data` with every string at a schema property of `format: password` replaced by
 * `transform(value)`. Used to seal plugin data before it is stored, open it for the plugin, and redact it in
 * API responses and logs.
 */
export function mapPasswordFields(data: unknown, schema: unknown, transform: (value: string) => string): unknown {
  const node = (schema ?? {}) as SchemaNode;
  if (typeof data === 'string') return node.format === 'password' ? transform(data) : data;
  if (Array.isArray(data)) {
    const items = Array.isArray(node.items) ? undefined : node.items;
    return data.map((item, index) =>
      mapPasswordFields(item, Array.isArray(node.items) ? node.items[index] : items, transform),
    );
  }
  if (data && typeof data === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
      const child =
        node.properties?.[key] ??
        (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
      out[key] = mapPasswordFields(value, child, transform);
    }
    return out;
  }
  return data;
}

/** Whether a schema declares any password field. */
export function hasPasswordFields(schema: unknown): boolean {
  let found = false;
  const visit = (node: unknown): void => {
    if (found || !node || typeof node !== 'object') return;
    const value = node as SchemaNode;
    if (value.format === 'password') found = true;
    Object.values(value.properties ?? {}).forEach(visit);
    if (Array.isArray(value.items)) value.items.forEach(visit);
    else visit(value.items);
    if (typeof value.additionalProperties === 'object') visit(value.additionalProperties);
  };
  visit(schema);
  return found;
}
