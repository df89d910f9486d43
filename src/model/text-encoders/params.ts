// The text encoders' parameters are graph inputs named by Hugging Face's checkpoint keys
// (`encoder.block.0.layer.0.SelfAttention.q.weight`, `text_model.encoder.layers.0.self_attn.q_proj.weight`, …),
// so the safetensors of a diffusers folder map 1:1.
export { ParamStore as TextParamStore } from '../param-store.ts';
