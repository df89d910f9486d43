// The autoencoder's parameters are graph inputs named by BFL's checkpoint keys
// (`encoder.down.0.block.0.norm1.weight`, …), so `ae.safetensors` maps 1:1.
export { ParamStore as AeParamStore } from '../param-store.ts';
