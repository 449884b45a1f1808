// Placeholder while the page is written.
export default function Team() {
  return <div className="page"><h1>Team</h1></div>;
}
