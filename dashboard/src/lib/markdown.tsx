// The little Markdown the docs' table cells use: `code` spans.
export function InlineMd({ text }: { text: string }) {
  return (
    <>
      {text.split(/(`[^`]+`)/).map((part) => (part.startsWith('`') && part.endsWith('`') ? <code>{part.slice(1, -1)}</code> : part))}
    </>
  );
}
