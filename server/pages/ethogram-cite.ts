import type { EthogramRow, VersionRow } from '../../ethograms/version-document.ts';

/**
 * "Cite this version": a published ethogram version's page is its permanent address (published versions never
 * change), so the citation, the BibTeX entry, `<link rel="canonical">` and the citation meta tags all name it.
 * Drafts are not citable: they change, and only researchers can see them.
 */

/** The one URL a version is cited by: the version page, absolute, on this instance's public address. */
export function versionCitationUrl(baseUrl: string, slug: string, number: number): string {
  return new URL(`/ethograms/${encodeURIComponent(slug)}/versions/${number}`, baseUrl).toString();
}

/** Characters BibTeX treats specially, escaped so a name like "R&D 100%" survives. */
function bibtexEscape(text: string): string {
  return text.replace(/[\\{}%&$#_^~]/g, (c) => (c === '\\' ? '\\textbackslash{}' : c === '^' ? '\\^{}' : c === '~' ? '\\~{}' : `\\${c}`));
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

export interface VersionCitation {
  version: number;
  url: string;
  publisher: string;
  date: string;
  text: string;
  bibtex: string;
  jsonUrl: string;
  borisUrl: string;
  metaTags: { name: string; content: string }[];
}

/** Everything the cite block and the page head need; null for a draft (not citable). */
export function versionCitation(baseUrl: string, ethogram: Pick<EthogramRow, 'slug' | 'name' | 'description'>, version: Pick<VersionRow, 'number' | 'status' | 'publishedAt'>): VersionCitation | null {
  if (version.status === 'draft' || !version.publishedAt) return null;
  const url = versionCitationUrl(baseUrl, ethogram.slug, version.number);
  const host = new URL(baseUrl).host;
  const publisher = `Menagerie (${host})`;
  const iso = version.publishedAt.toISOString();
  const date = iso.slice(0, 10);
  const title = `${ethogram.name}, version ${version.number}`;
  const exportUrl = new URL(`/api/v1/ethograms/${encodeURIComponent(ethogram.slug)}/versions/${version.number}/export`, baseUrl).toString();
  const bibtex = [
    `@misc{${ethogram.slug}-v${version.number},`,
    `  title = {${bibtexEscape(ethogram.name)}, version ${version.number}},`,
    `  howpublished = {Ethogram, ${bibtexEscape(publisher)}},`,
    `  publisher = {${bibtexEscape(publisher)}},`,
    `  year = {${iso.slice(0, 4)}},`,
    `  month = ${MONTHS[version.publishedAt.getUTCMonth()]},`,
    `  note = {Version ${version.number}, published ${date}},`,
    `  url = {${url}}`,
    `}`,
  ].join('\n');
  return {
    version: version.number,
    url,
    publisher,
    date,
    text: `${title}. Ethogram published ${date} by ${publisher}. ${url}`,
    bibtex,
    jsonUrl: exportUrl,
    borisUrl: `${exportUrl}?format=boris`,
    metaTags: [
      { name: 'citation_title', content: title },
      { name: 'citation_publication_date', content: date.replaceAll('-', '/') },
      { name: 'citation_publisher', content: publisher },
      { name: 'citation_public_url', content: url },
      { name: 'DC.title', content: title },
      { name: 'DC.date', content: date },
      { name: 'DC.publisher', content: publisher },
      { name: 'DC.identifier', content: url },
      { name: 'DC.type', content: 'Dataset' },
      ...(ethogram.description ? [{ name: 'description', content: ethogram.description.slice(0, 300) }] : []),
    ],
  };
}

