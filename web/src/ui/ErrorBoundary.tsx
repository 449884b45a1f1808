// A render error (or a page's code that no longer loads: a new version of
// the editor was installed while this tab was open) shows a note with a
// reload button in place of the part that failed, instead of a blank app.
// `resetKey`: a new value (say, the path) tries again.
import { Component, type ReactNode } from 'react';
import { errorNoteText } from './errorText';

interface Props { children: ReactNode; resetKey?: string; what?: string; /** the note in an <aside> of this class (to keep a layout) */ asideClass?: string }
interface State { error: unknown; key?: string }

export class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null, key: this.props.resetKey };

  static getDerivedStateFromError(error: unknown): Partial<State> { return { error }; }

  static getDerivedStateFromProps(p: Props, s: State): Partial<State> | null {
    return p.resetKey !== s.key ? { error: null, key: p.resetKey } : null;
  }

  componentDidCatch(error: unknown) { console.error(error); }

  render() {
    if (this.state.error == null) return this.props.children;
    const note = (
      <div className="error-note" role="alert" style={{ margin: 16 }}>
        <p>{errorNoteText(this.state.error, this.props.what)}</p>
        <p><button onClick={() => location.reload()}>Reload the page</button></p>
      </div>
    );
    return this.props.asideClass ? <aside className={this.props.asideClass}>{note}</aside> : note;
  }
}
