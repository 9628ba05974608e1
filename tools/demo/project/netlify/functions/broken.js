// A v1 function with a syntax error: the object on the return line lacks its closing "}".
// Fix it (`body: greeting };`) and watch netlify/broken turn green on the dashboard.
exports.handler = async () => {
  const greeting = 'fixed!';
  return { statusCode: 200, body: greeting ;
};
