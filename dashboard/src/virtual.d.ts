declare module 'virtual:model-docs' {
  /** Attribution model → its credit rule, from docs/attribution.md. */
  const models: Record<string, string>;
  export default models;
}
