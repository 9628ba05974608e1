// A Netlify Functions v2 handler: a default export taking a Request and returning a Response.
export default async () => Response.json({ now: new Date().toISOString() });
