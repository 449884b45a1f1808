// CodeMirror 6 fields: JSON (with parse-error lint), JavaScript-ish code,
// and expressions ({{ … }} highlighted). One small component; the view is
// made once and the document replaced only when the value changes from
// outside (undo, another node).
import { useEffect, useRef } from 'react';
import { EditorState, type Extension } from '@codemirror/state';
import { Decoration, EditorView, MatchDecorator, ViewPlugin, keymap, placeholder as cmPlaceholder, type DecorationSet, type ViewUpdate } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { closeBrackets } from '@codemirror/autocomplete';
import { json, jsonParseLinter } from '@codemirror/lang-json';
import { javascript } from '@codemirror/lang-javascript';
import { linter, lintGutter } from '@codemirror/lint';

export type CodeLang = 'json' | 'js' | 'expr' | 'text';

const exprMatcher = new MatchDecorator({
  regexp: /\{\{[\s\S]*?\}\}/g,
  decoration: Decoration.mark({ class: 'cm-expr' }),
});
const exprHighlight = ViewPlugin.fromClass(class {
  decorations: DecorationSet;
  constructor(view: EditorView) { this.decorations = exprMatcher.createDeco(view); }
  update(u: ViewUpdate) { this.decorations = exprMatcher.updateDeco(u, this.decorations); }
}, { decorations: (v) => v.decorations });

function langExt(lang: CodeLang): Extension[] {
  switch (lang) {
    case 'json': {
      const parse = jsonParseLinter();
      // an empty field is "absent" (the default applies), not an error
      return [json(), linter((v) => (v.state.doc.length === 0 || !v.state.doc.toString().trim() ? [] : parse(v)), { delay: 300 }), lintGutter(), exprHighlight];
    }
    case 'js': return [javascript()];
    case 'expr': return [exprHighlight];
    default: return [];
  }
}

export function CodeField({ value, onChange, lang, readOnly, label, placeholder, minLines = 1, id, invalid }: {
  value: string; onChange: (v: string) => void; lang: CodeLang; readOnly?: boolean; label: string;
  placeholder?: string; minLines?: number; id?: string; invalid?: boolean;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const changeRef = useRef(onChange);
  changeRef.current = onChange;

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          history(),
          keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
          bracketMatching(),
          closeBrackets(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          EditorView.lineWrapping,
          EditorState.readOnly.of(!!readOnly),
          EditorView.editable.of(!readOnly),
          EditorView.contentAttributes.of({ 'aria-label': label, ...(id ? { id } : {}), ...(invalid ? { 'aria-invalid': 'true' } : {}) }),
          ...(placeholder ? [cmPlaceholder(placeholder)] : []),
          ...langExt(lang),
          EditorView.updateListener.of((u) => { if (u.docChanged) changeRef.current(u.state.doc.toString()); }),
          EditorView.theme({ '.cm-content': { minHeight: `${minLines * 1.45}em` } }),
        ],
      }),
    });
    view.current = v;
    return () => { v.destroy(); view.current = null; };
    // the view is made once per language and mode; the value follows below
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lang, readOnly, label, placeholder]);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
  }, [value]);

  return <div ref={host} className={'code-field lang-' + lang + (readOnly ? ' readonly' : '')} />;
}
