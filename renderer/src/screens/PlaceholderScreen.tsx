export function PlaceholderScreen({ title, text }: { title: string; text: string }) {
  return (
    <section aria-labelledby="placeholder-title">
      <h1 id="placeholder-title">{title}</h1>
      <div className="card">
        <p>{text}</p>
        <p className="muted">This page has its place in the navigation now so the layout will not move when it arrives.</p>
      </div>
    </section>
  );
}
