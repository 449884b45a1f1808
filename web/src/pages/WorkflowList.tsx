// Placeholder while the page is written.
export default function WorkflowList() {
  return <div className="page"><h1>WorkflowList</h1></div>;
}
