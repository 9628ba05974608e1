// A Netlify Functions v1 handler: exports.handler returning { statusCode, body }.
exports.handler = async (event) => {
  const name = (event.queryStringParameters && event.queryStringParameters.name) || 'world';
  return { statusCode: 200, body: JSON.stringify({ hello: name }) };
};
