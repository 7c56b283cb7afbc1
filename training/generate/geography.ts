// Where generated regions are, so that round trips between them follow the map: great-circle
// distance at two thirds of the speed of light in fibre, there and back, plus switching.

export interface Place {
  region: string;
  lat: number;
  lon: number;
}

/** Cloud-like regions on every continent; names are DNS labels as scenarios need. */
export const PLACES: readonly Place[] = [
  { region: 'eu-west', lat: 53.3, lon: -6.3 },
  { region: 'eu-central', lat: 50.1, lon: 8.7 },
  { region: 'eu-north', lat: 59.3, lon: 18.1 },
  { region: 'eu-south', lat: 45.5, lon: 9.2 },
  { region: 'us-east', lat: 39.0, lon: -77.5 },
  { region: 'us-central', lat: 41.3, lon: -95.9 },
  { region: 'us-west', lat: 45.6, lon: -121.2 },
  { region: 'ca-central', lat: 45.5, lon: -73.6 },
  { region: 'sa-east', lat: -23.5, lon: -46.6 },
  { region: 'ap-south', lat: 19.1, lon: 72.9 },
  { region: 'ap-southeast', lat: 1.35, lon: 103.8 },
  { region: 'ap-northeast', lat: 35.7, lon: 139.7 },
  { region: 'ap-east', lat: 22.3, lon: 114.2 },
  { region: 'au-east', lat: -33.9, lon: 151.2 },
  { region: 'af-south', lat: -33.9, lon: 18.4 },
  { region: 'me-central', lat: 25.2, lon: 55.3 },
];

const EARTH_KM = 6371;
/** Light in fibre covers about 200 km per millisecond. */
const FIBRE_KM_PER_MS = 200;

/** Great-circle kilometres between two places. */
export function distanceKm(a: Place, b: Place): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_KM * Math.asin(Math.sqrt(h));
}

/** The round trip between two places in ms: routes are about 1.4 times the great circle, plus 2 ms of switching. */
export function roundTripMs(a: Place, b: Place): number {
  return Math.round((2 * 1.4 * distanceKm(a, b)) / FIBRE_KM_PER_MS + 2);
}
