// The little Markdown the docs' model explanations use: `code` spans and **bold**.
export function InlineMd({ text }: { text: string }) {
  return (
    <>
      {text.split(/(`[^`]+`|\*\*[^*]+\*\*)/).map((part) =>
        part.startsWith('`') && part.endsWith('`') ? <code>{part.slice(1, -1)}</code> : part.startsWith('**') && part.endsWith('**') ? <strong>{part.slice(2, -2)}</strong> : part,
      )}
    </>
  );
}
