/**
 * Imports torchvision weights (safetensors or ONNX) into a reference architecture: `npx nx run backbones:import --
 * --from resnet18.safetensors --arch resnet18 --out models/backbones/resnet18`.
 */
import { ImportSchema, runImport } from '@cv/backbones';
import { runCli } from '@cv/engine';

runCli(runImport, {
  schema: ImportSchema,
  usage: 'usage: nx run backbones:import -- --from <file.safetensors|file.onnx|folder> --arch resnet18 --out <dir> [--classes names.txt]',
});
