package nl.zicht.peer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.utils.Utils;

/** config/reference/municipalities.csv: code -> dense index and population. */
final class Municipalities {
  final List<String> codes = new ArrayList<>();
  final long[] population;
  final long totalPopulation;
  private final Map<String, Integer> index = new HashMap<>();

  Municipalities(Path csv) throws IOException {
    List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
    List<String> header = split(lines.get(0));
    int codeCol = -1, popCol = -1;
    for (int i = 0; i < header.size(); i++) {
      if (header.get(i).trim().equals("code")) codeCol = i;
      if (header.get(i).trim().equals("population")) popCol = i;
    }
    if (codeCol < 0 || popCol < 0) throw new IOException(csv + ": no code/population column");
    List<Long> pops = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      if (line.isBlank()) continue;
      List<String> f = split(line);
      index.put(f.get(codeCol).trim(), codes.size());
      codes.add(f.get(codeCol).trim());
      pops.add(Long.parseLong(f.get(popCol).trim()));
    }
    population = pops.stream().mapToLong(Long::longValue).toArray();
    long total = 0;
    for (long p : population) total += p;
    totalPopulation = total;
  }

  /** One CSV line (RFC 4180 quoting: names such as "Nuenen, Gerwen en Nederwetten"). */
  private static List<String> split(String line) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          cur.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          cur.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    out.add(cur.toString());
    return out;
  }

  /** Dense index of a CBS code, -1 if unknown. */
  int indexOf(String code) {
    Integer i = code == null ? null : index.get(code);
    return i == null ? -1 : i;
  }

  int size() {
    return codes.size();
  }

  /** The input partition a producer's default (murmur2) partitioner puts this code on. */
  static int partitionOf(String code, int partitions) {
    return Utils.toPositive(Utils.murmur2(code.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  /** Population of the municipalities whose events land on `partition`. */
  long populationOfPartition(int partition, int partitions) {
    long sum = 0;
    for (int i = 0; i < codes.size(); i++) {
      if (partitionOf(codes.get(i), partitions) == partition) sum += population[i];
    }
    return sum;
  }
}
