// The CPU pool's task module for HCL: loads HashiCorp's parser (a Go program compiled to WebAssembly)
// in the pool thread only. See runtime/hcl.ts for why it lives here.
import { parse } from '@cdktf/hcl2json';

export interface HclTask {
  fileName: string;
  text: string;
}

/** The parser's JSON tree, as a JSON string (cheap to clone back, and cached as such by the caller). */
export default async function hclTask(task: HclTask): Promise<string> {
  return JSON.stringify(await parse(task.fileName, task.text));
}
