/** What a gateway stage produces for the client: status, headers and a body already rendered. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}
