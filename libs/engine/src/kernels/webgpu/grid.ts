/**
 * One invocation per element for element-wise kernels: workgroups of 256 along x, folded over y where x would
 * pass WebGPU's 65,535 workgroups per dimension. A kernel declares `lid` (local_invocation_id), `wid`
 * (workgroup_id) and `nwg` (num_workgroups) and takes its element index from `flatIndex`.
 */
export const flatIndex = '(wid.y * nwg.x + wid.x) * 256u + lid.x';

const MAX_PER_DIM = 65535;

/** Workgroups for `n` elements, `per` (256) to a workgroup. */
export function grid1d(n: number, per = 256): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / per));
  if (groups <= MAX_PER_DIM) return [groups, 1, 1];
  const y = Math.ceil(groups / MAX_PER_DIM);
  return [Math.ceil(groups / y), y, 1];
}
