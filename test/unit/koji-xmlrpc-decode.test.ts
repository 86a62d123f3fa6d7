import { describe, expect, it } from 'vitest';
import { XmlRpcFault, XmlRpcParseError, encodeMethodCall, encodeMethodResponse, type XmlRpcValue } from '../../src/koji/xmlrpc';
import { decodeMethodCall, decodeMethodResponse } from '../../src/koji/xmlrpc';

/** A response as Python's xmlrpc.client.dumps(..., methodresponse=True) lays it out: a line per element. */
const PYTHON_RESPONSE = `<?xml version='1.0'?>
<methodResponse>
<params>
<param>
<value><array><data>
<value><struct>
<member>
<name>id</name>
<value><int>3</int></value>
</member>
<member>
<name>name</name>
<value><string>buildarm-03</string></value>
</member>
<member>
<name>comment</name>
<value><nil/></value>
</member>
<member>
<name>enabled</name>
<value><boolean>1</boolean></value>
</member>
<member>
<name>capacity</name>
<value><double>2.5</double></value>
</member>
</struct></value>
</data></array></value>
</param>
</params>
</methodResponse>
`;

const PYTHON_FAULT = `<?xml version='1.0'?>
<methodResponse>
<fault>
<value><struct>
<member>
<name>faultCode</name>
<value><int>1004</int></value>
</member>
<member>
<name>faultString</name>
<value><string>host permission required (logged in as rekick)</string></value>
</member>
</struct></value>
</fault>
</methodResponse>
`;

async function parseError(text: string): Promise<string> {
  const err = await decodeMethodResponse(text).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(XmlRpcParseError);
  return (err as Error).message;
}

describe('XML-RPC reader', () => {
  it("reads Python's layout: one element per line, nil, booleans, doubles", async () => {
    expect(await decodeMethodResponse(PYTHON_RESPONSE)).toEqual([{ id: 3, name: 'buildarm-03', comment: null, enabled: true, capacity: 2.5 }]);
  });

  it('reads a fault as the hub sent it', async () => {
    await expect(decodeMethodResponse(PYTHON_FAULT)).rejects.toEqual(new XmlRpcFault(1004, 'host permission required (logged in as rekick)'));
  });

  it('keeps the text of strings exactly: spaces, entities, character references, CDATA, comments between', async () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?><!-- hub -->
<methodResponse><params><param><value><struct>
<member><name>spaces</name><value><string>  two  </string></value></member>
<member><name>untyped</name><value> as is </value></member>
<member><name>empty</name><value></value></member>
<member><name>emptyTag</name><value/></member>
<member><name>emptyString</name><value><string/></value></member>
<member><name>entities</name><value>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#233;&#x2713;</value></member>
<member><name>cdata</name><value><string><![CDATA[<not a tag> & raw]]></string></value></member>
<member><name>split</name><value>one<!-- a comment -->two</value></member>
<member><name>unicode</name><value>énorme ✓ 𝒳</value></member>
</struct></value></param></params></methodResponse>`;
    expect(await decodeMethodResponse(xml)).toEqual({
      spaces: '  two  ',
      untyped: ' as is ',
      empty: '',
      emptyTag: '',
      emptyString: '',
      entities: `a <b> & "c" 'd' é✓`,
      cdata: '<not a tag> & raw',
      split: 'onetwo',
      unicode: 'énorme ✓ 𝒳',
    });
  });

  it('reads every scalar type: i4, int, i8 (number or bigint), dateTime in UTC, base64, namespaced extensions', async () => {
    const xml = `<methodResponse xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions"><params><param><value><array><data>
<value><i4>-7</i4></value>
<value><int> 42 </int></value>
<value><i8>9007199254740993</i8></value>
<value><i8>-12</i8></value>
<value><ex:i8>5</ex:i8></value>
<value><ex:nil/></value>
<value><dateTime.iso8601>20240131T12:34:56</dateTime.iso8601></value>
<value><dateTime.iso8601>2024-01-31T12:34:56+02:00</dateTime.iso8601></value>
<value><base64>aGVs
bG8=</base64></value>
<value><boolean>0</boolean></value>
<value><double>-1.5e3</double></value>
</data></array></value></param></params></methodResponse>`;
    expect(await decodeMethodResponse(xml)).toEqual([
      -7,
      42,
      9007199254740993n,
      -12,
      5,
      null,
      new Date('2024-01-31T12:34:56Z'),
      new Date('2024-01-31T10:34:56Z'),
      Buffer.from('hello'),
      false,
      -1500,
    ]);
  });

  it('refuses what is not XML-RPC, naming what is wrong, and never expands a DOCTYPE', async () => {
    expect(await parseError('<html><body>Bad gateway</body></html>')).toMatch(/expected <methodResponse>, found <html>/);
    expect(await parseError('')).toMatch(/expected <methodResponse>, found the end of the text/);
    expect(await parseError('<!DOCTYPE x [<!ENTITY a "aaaa">]><methodResponse/>')).toMatch(/DOCTYPE/);
    expect(await parseError(encodeMethodResponse('x').replace('</methodResponse>', ''))).toMatch(/expected <\/methodResponse>/);
    expect(await parseError(`${encodeMethodResponse('x')}<extra/>`)).toMatch(/after the end/);
    expect(await parseError(encodeMethodResponse('x').replace('<string>x</string>', '<string>&bogus;</string>'))).toMatch(/unknown entity &bogus;/);
    expect(await parseError(encodeMethodResponse('x').replace('<string>x</string>', '<string>a & b</string>'))).toMatch(/bare '&'/);
    expect(await parseError(encodeMethodResponse('x').replace('<string>x</string>', '<string>&#0;</string>'))).toMatch(/bad character reference/);
    expect(await parseError(encodeMethodResponse(1).replace('<int>1</int>', '<int>1.5</int>'))).toMatch(/expected an integer in <int>/);
    expect(await parseError(encodeMethodResponse(1).replace('<int>1</int>', '<int>4294967296</int>'))).toMatch(/beyond 32 bits/);
    expect(await parseError(encodeMethodResponse(1).replace('<int>1</int>', '<boolean>yes</boolean>'))).toMatch(/expected 0 or 1/);
    expect(await parseError(encodeMethodResponse(1).replace('<int>1</int>', '<double>NaN</double>'))).toMatch(/expected a number/);
    expect(await parseError(encodeMethodResponse(1).replace('<int>1</int>', '<dateTime.iso8601>soon</dateTime.iso8601>'))).toMatch(/expected a date/);
    expect(await parseError(encodeMethodResponse(1).replace('<int>1</int>', '<object>1</object>'))).toMatch(/unknown value type <object>/);
    expect(await parseError(encodeMethodResponse(1).replace('<int>1</int>', 'junk<int>1</int>'))).toMatch(/text 'junk' before a typed value/);
    expect(await parseError(encodeMethodResponse({ a: 1 }).replace('<member>', 'stray<member>'))).toMatch(/unexpected text 'stray'/);
    expect(await parseError(encodeMethodResponse(1).replace('<int>1</int>', '<int>1</int'))).toMatch(/malformed tag/);
    expect(await parseError('<methodResponse><fault><value><struct></struct></value></fault></methodResponse>')).toMatch(/fault without a faultCode/);
  });

  it('refuses nesting deeper than any Koji answer instead of recursing without bound', async () => {
    const deep = (n: number) => `<methodResponse><params><param>${'<value><array><data>'.repeat(n)}${'</data></array></value>'.repeat(n)}</param></params></methodResponse>`;
    expect(await decodeMethodResponse(deep(20))).toBeDefined();
    expect(await parseError(deep(100_000))).toMatch(/nested deeper than 64/);
  });

  it('drops prototype-polluting member names', async () => {
    const xml = encodeMethodResponse({ ok: 1 }).replace(
      '<struct>',
      '<struct><member><name>__proto__</name><value><struct><member><name>polluted</name><value>1</value></member></struct></value></member><member><name>constructor</name><value>x</value></member>',
    );
    const v = (await decodeMethodResponse(xml)) as Record<string, unknown>;
    expect(v).toEqual({ ok: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });

  it('reads back whatever the writer writes (randomized values, calls and responses)', async () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T,>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
    const chars = ['a', 'Z', ' ', '<', '>', '&', '"', "'", ';', '\n', '\t', 'é', '✓', '𝒳', ']]>', '<!--', '&amp;'];
    const str = () => Array.from({ length: Math.floor(rand() * 12) }, () => pick(chars)).join('');
    const value = (depth: number): XmlRpcValue => {
      const kind = depth > 3 ? Math.floor(rand() * 6) : Math.floor(rand() * 8);
      switch (kind) {
        case 0: return str();
        case 1: return Math.floor((rand() - 0.5) * 2 ** 31);
        case 2: return pick([2 ** 40, -(2 ** 45), 2n ** 60n, -(2n ** 62n)]);
        case 3: return rand() < 0.5;
        case 4: return null;
        case 5: return pick([0.5, -3.25, 1e-7, 123456.75]);
        case 6: return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
        default: return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, () => [str() || 'k', value(depth + 1)]));
      }
    };
    for (let i = 0; i < 500; i++) {
      const v = value(0);
      expect(await decodeMethodResponse(encodeMethodResponse(v))).toEqual(v);
      const params = [v, value(0)];
      expect(await decodeMethodCall(encodeMethodCall('listTasks', params))).toEqual({ method: 'listTasks', params });
    }
  });

  it('reads calls: no params, empty params, a bad method name refused', async () => {
    expect(await decodeMethodCall('<methodCall><methodName>getAPIVersion</methodName></methodCall>')).toEqual({ method: 'getAPIVersion', params: [] });
    expect(await decodeMethodCall('<methodCall><methodName>system.listMethods</methodName><params/></methodCall>')).toEqual({
      method: 'system.listMethods',
      params: [],
    });
    await expect(decodeMethodCall('<methodCall><methodName>a b</methodName></methodCall>')).rejects.toThrow(/not an XML-RPC call \(a bad method name 'a b'\)/);
  });
});
