import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { helpers } from './helpers/index.ts';

export const viewsDir = path.dirname(new URL(import.meta.url).pathname);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : full.endsWith('.hbs') ? [full] : [];
  });
}

/**
 * An express view engine over one private Handlebars instance: partials and helpers registered once,
 * templates compiled on first use and cached; every page renders inside `layouts/main` unless
 * `layout: false` is passed. Handlebars escapes `{{ }}` output, so user text is always escaped.
 */
export function createViewEngine() {
  const hbs = Handlebars.create();
  for (const [name, fn] of Object.entries(helpers)) hbs.registerHelper(name, fn as Handlebars.HelperDelegate);
  const partialsDir = path.join(viewsDir, 'partials');
  for (const file of walk(partialsDir)) {
    const name = path.relative(partialsDir, file).replace(/\.hbs$/, '');
    hbs.registerPartial(name, readFileSync(file, 'utf8'));
  }
  const cache = new Map<string, Handlebars.TemplateDelegate>();
  const compile = (file: string) => {
    let t = cache.get(file);
    if (!t) {
      t = hbs.compile(readFileSync(file, 'utf8'), { strict: false, preventIndent: true });
      cache.set(file, t);
    }
    return t;
  };
  return (file: string, options: object, callback: (err: Error | null, html?: string) => void) => {
    try {
      const data = options as Record<string, unknown> & { layout?: string | false };
      const body = compile(file)(data);
      if (data.layout === false) return callback(null, body);
      const layout = path.join(viewsDir, 'layouts', `${data.layout ?? 'main'}.hbs`);
      callback(null, compile(layout)({ ...data, body }));
    } catch (err) {
      callback(err as Error);
    }
  };
}
