// The countries map, loaded on demand (its geometry is ~40 KB gzipped, outside the initial
// bundle): Natural Earth's 1:110m countries from world-atlas, drawn in SVG with the Natural
// Earth projection; each country's shade is its share of the top country's visitors.
import codes from 'i18n-iso-countries/codes.json';
import type { GeometryCollection, Topology } from 'topojson-specification';
import { feature } from 'topojson-client';
import countries110m from 'world-atlas/countries-110m.json';
import { number } from '../lib/format';

type Ring = [number, number][];

const ALPHA2_BY_NUMERIC = new Map((codes as string[][]).map((c) => [c[2], c[0]]));

function project([lon, lat]: [number, number]): [number, number] {
  const l = (lon * Math.PI) / 180;
  const p = (Math.max(-85, Math.min(85, lat)) * Math.PI) / 180;
  const p2 = p * p;
  const p4 = p2 * p2;
  const x = l * (0.8707 - 0.131979 * p2 + p4 * (-0.013791 + p4 * (0.003971 * p2 - 0.001529 * p4)));
  const y = p * (1.007226 + p2 * (0.015085 + p4 * (-0.044475 + 0.028874 * p2 - 0.005916 * p4)));
  return [x * 160 + 480, 250 - y * 160];
}

function ringPath(ring: Ring): string {
  // A ring that wraps the antimeridian is drawn as separate pieces, not a line across the map.
  let d = '';
  ring.forEach((pt, i) => {
    const [x, y] = project(pt);
    const jump = i === 0 || Math.abs(pt[0] - ring[i - 1][0]) > 180;
    d += `${jump ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`;
  });
  return d + 'Z';
}

interface Shape {
  alpha2: string;
  name: string;
  d: string;
}

let shapes: Shape[] | null = null;

function countryShapes(): Shape[] {
  if (shapes) return shapes;
  const topology = countries110m as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
  const collection = feature(topology, topology.objects.countries);
  shapes = collection.features.flatMap((f) => {
    const alpha2 = ALPHA2_BY_NUMERIC.get(String(f.id)) ?? '';
    const g = f.geometry;
    if (!g || alpha2 === 'AQ') return [];
    const polygons = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
    const d = polygons.map((poly) => (poly as Ring[]).map(ringPath).join('')).join('');
    return [{ alpha2, name: f.properties?.name ?? alpha2, d }];
  });
  return shapes;
}

interface WorldMapProps {
  visitors: Map<string, number>;
  names: (code: string) => string;
  onSelect: (code: string) => void;
}

export function WorldMap({ visitors, names, onSelect }: WorldMapProps) {
  const top = Math.max(1, ...visitors.values());
  return (
    <svg class="worldmap" viewBox="0 0 960 440" role="img" aria-label="Visitors by country (the countries table lists the same numbers)">
      {countryShapes().map((s) => {
        const v = visitors.get(s.alpha2) ?? 0;
        return (
          <path
            d={s.d}
            class={v ? 'has-visitors' : ''}
            fill-opacity={v ? 0.25 + 0.75 * (v / top) : undefined}
            onClick={v ? () => onSelect(s.alpha2) : undefined}
            data-country={s.alpha2}
          >
            <title>{`${names(s.alpha2) || s.name}: ${number(v)} visitors`}</title>
          </path>
        );
      })}
    </svg>
  );
}
