/** The XML-RPC codec the Koji client and the lab's hub stand-in share: values, Koji's keyword arguments, writing, reading. */
export { XmlRpcFault, XmlRpcParseError, isStruct, type XmlRpcFaultValue, type XmlRpcValue } from './values';
export { decodeArgs, encodeArgs } from './kwargs';
export { encodeFault, encodeMethodCall, encodeMethodResponse, encodeValue } from './encode';
export { decodeMethodCall, decodeMethodResponse } from './decode';
