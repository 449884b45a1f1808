// Placeholder while the editor is written.
export default function Editor({ id }: { id: string }) {
  return <div className="page"><h1>Workflow {id}</h1></div>;
}
