// Placeholder while the page is written.
export default function Executions() {
  return <div className="page"><h1>Executions</h1></div>;
}
